import { useSyncExternalStore } from "react";

// The credential lives in sessionStorage: it survives a reload of the tab, not the tab itself.
const STORAGE_KEY = "crm.credential";

export interface SessionState {
  credential: string | null;
  // The API refused the credential mid-session: the app stays on screen (with whatever was typed in it)
  // under a sign-in dialog, instead of navigating away.
  expired: boolean;
}

let state: SessionState = { credential: sessionStorage.getItem(STORAGE_KEY), expired: false };
const listeners = new Set<() => void>();

function set(next: SessionState) {
  state = next;
  listeners.forEach((listener) => listener());
}

export const session = {
  get: (): SessionState => state,
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  signIn(credential: string) {
    sessionStorage.setItem(STORAGE_KEY, credential);
    set({ credential, expired: false });
  },
  signOut() {
    sessionStorage.removeItem(STORAGE_KEY);
    set({ credential: null, expired: false });
  },
  expire() {
    sessionStorage.removeItem(STORAGE_KEY);
    set({ credential: null, expired: true });
  },
};

export function useSession(): SessionState {
  return useSyncExternalStore(session.subscribe, session.get);
}
