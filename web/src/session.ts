import { useSyncExternalStore } from "react";
import { loadConfig, userPoolOf } from "./auth/config";

// The credential lives in sessionStorage: it survives a reload of the tab, not the tab itself.
const STORAGE_KEY = "crm.credential";
const POOL_TOKENS_KEY = "crm.pool-tokens";
// A user pool session's ID token is replaced this long before it expires (it lives an hour).
const REFRESH_BEFORE_MS = 5 * 60_000;

/** What a password sign-in keeps beside its ID token (the credential), to refresh and to end it. */
export interface PoolTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  // The pool's own name of the user (not the email the user typed), which refresh and sign-out need.
  username: string;
  // When the ID token expires, in this page's clock (ms since the epoch).
  expiresAt: number;
}

export interface SessionState {
  // The Bearer credential: an API key, or the ID token of a user pool sign-in.
  credential: string | null;
  pool: PoolTokens | null;
  // The API refused the credential mid-session: the app stays on screen (with whatever was typed in it)
  // under a sign-in dialog, instead of navigating away.
  expired: boolean;
  // How the session that expired had signed in: the dialog asks for the same again.
  expiredMethod?: "api-key" | "password";
}

function storedPoolTokens(credential: string | null): PoolTokens | null {
  try {
    const tokens = JSON.parse(sessionStorage.getItem(POOL_TOKENS_KEY) ?? "null") as PoolTokens | null;
    return tokens && tokens.idToken === credential ? tokens : null;
  } catch {
    return null;
  }
}

const storedCredential = sessionStorage.getItem(STORAGE_KEY);
let state: SessionState = { credential: storedCredential, pool: storedPoolTokens(storedCredential), expired: false };
const listeners = new Set<() => void>();
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<string | null> | undefined;

function set(next: SessionState) {
  state = next;
  if (next.credential) sessionStorage.setItem(STORAGE_KEY, next.credential);
  else sessionStorage.removeItem(STORAGE_KEY);
  if (next.pool) sessionStorage.setItem(POOL_TOKENS_KEY, JSON.stringify(next.pool));
  else sessionStorage.removeItem(POOL_TOKENS_KEY);
  scheduleRefresh();
  listeners.forEach((listener) => listener());
}

// An open tab keeps its session while nobody clicks: the token is replaced before it expires, not after.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!state.pool) return;
  const delay = Math.max(0, state.pool.expiresAt - REFRESH_BEFORE_MS - Date.now());
  refreshTimer = setTimeout(() => void currentCredential(), delay);
}

async function refreshPoolSession(tokens: PoolTokens): Promise<string | null> {
  const config = userPoolOf(await loadConfig());
  try {
    if (!config) throw new Error("config.json names no user pool");
    const { refresh } = await import("./auth/userPool");
    const next = await refresh(config, tokens);
    // Signed out, or into another session, while the refresh was on its way: that one stands.
    if (state.pool?.refreshToken !== tokens.refreshToken) return state.credential;
    set({ credential: next.idToken, pool: next, expired: false });
    return next.idToken;
  } catch (error) {
    if (state.pool?.refreshToken !== tokens.refreshToken) return state.credential;
    const code = (error as { code?: string }).code;
    // Offline for a moment: the token may still be good, and the next request tries again.
    if (code === "NetworkError" && tokens.expiresAt > Date.now()) return tokens.idToken;
    // The refresh token was revoked (signed out elsewhere) or expired: sign in again, keeping the page.
    session.expire();
    return null;
  }
}

/** The credential to send now: a user pool session's ID token is refreshed first when it is about to
 * expire (one refresh however many requests ask at once). */
export function currentCredential(): Promise<string | null> {
  const { credential, pool } = state;
  if (!pool || pool.expiresAt - Date.now() > REFRESH_BEFORE_MS) return Promise.resolve(credential);
  refreshing ??= refreshPoolSession(pool).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/** Ends the user's refresh tokens at the pool too; the sign-out itself never waits for it. */
async function revoke(tokens: PoolTokens) {
  try {
    const config = userPoolOf(await loadConfig());
    if (!config) return;
    const { globalSignOut } = await import("./auth/userPool");
    await globalSignOut(config, tokens);
  } catch {
    // Best effort: the tokens are gone from the page already, and the refresh token expires by itself.
  }
}

export const session = {
  get: (): SessionState => state,
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** Signs in with an API key, or with a user pool's tokens (the ID token is the credential). */
  signIn(credential: string, pool: PoolTokens | null = null) {
    set({ credential, pool, expired: false });
  },
  signOut() {
    const { pool } = state;
    set({ credential: null, pool: null, expired: false });
    if (pool) void revoke(pool);
  },
  expire() {
    set({ credential: null, pool: null, expired: true, expiredMethod: state.pool ? "password" : "api-key" });
  },
};

scheduleRefresh();

export function useSession(): SessionState {
  return useSyncExternalStore(session.subscribe, session.get);
}
