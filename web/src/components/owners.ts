import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useMe } from "../Shell";

/** An owner's name from the tenant's users (one request, cached); the caller reads as "You". */
export function useOwnerName() {
  const me = useMe();
  const users = useQuery({
    queryKey: ["users"],
    queryFn: () => unwrap(api.GET("/v1/users", { params: { query: { limit: 100 } } })),
    staleTime: 5 * 60_000,
  });
  return (ownerId: string | null | undefined) => {
    if (!ownerId) return "—";
    if (ownerId === me.data?.user.id) return "You";
    const user = users.data?.items.find((item) => item.id === ownerId);
    return user?.name ?? user?.email ?? "Another user";
  };
}
