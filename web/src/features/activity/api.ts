import { useInfiniteQuery } from "@tanstack/react-query";
import { unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";
import { useApi } from "../auth/useApi";

export type AuditEntry = components["schemas"]["AuditEntry"];

/** GET /v1/account/audit, newest first. Reading it is itself recorded (`audit.viewed`), so no background refetching. */
export function useActivity() {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: ["activity"],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => unwrap(await api.GET("/v1/account/audit", { params: { query: { limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
}
