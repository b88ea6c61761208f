import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useMe } from "../Shell";

/** An owner's name from the tenant's users (one request, cached); the caller reads as "You". */
/** The tenant's users (its first 100: enough to name owners and offer them as choices), cached. */
export function useUsers() {
  return useQuery({
    queryKey: ["users"],
    queryFn: () => unwrap(api.GET("/v1/users", { params: { query: { limit: 100 } } })),
    staleTime: 5 * 60_000,
  });
}

export function useOwnerName() {
  const me = useMe();
  const users = useUsers();
  return (ownerId: string | null | undefined) => {
    if (!ownerId) return "—";
    if (ownerId === me.data?.user.id) return "You";
    const user = users.data?.items.find((item) => item.id === ownerId);
    return user?.name ?? user?.email ?? "Another user";
  };
}
