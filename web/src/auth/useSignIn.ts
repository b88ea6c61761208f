import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { session, type PoolTokens } from "../session";

type Checked = { ok: true } | { ok: false; status: number };

/** `/v1/me` checks a credential before the session keeps it; the answer is cached as the signed-in user. */
export function useSignIn(onSignedIn: () => void) {
  const queryClient = useQueryClient();
  return async function signIn(credential: string, pool: PoolTokens | null = null): Promise<Checked> {
    const { data, response } = await api.GET("/v1/me", { headers: { Authorization: `Bearer ${credential}` } });
    if (!data) return { ok: false, status: response.status };
    session.signIn(credential, pool);
    queryClient.setQueryData(["me"], data);
    // What failed while signed out is asked again with the new credential.
    await queryClient.invalidateQueries({ predicate: (query) => query.queryKey[0] !== "me" });
    onSignedIn();
    return { ok: true };
  };
}
