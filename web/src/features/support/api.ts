import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap } from "../../lib/api/problem";
import type { components, paths } from "../../lib/api/schema";
import { useAuth } from "../auth/context";
import { useApi } from "../auth/useApi";

/** Support sessions (issue 16 item 1, docs/decisions/0019-support-sessions.md). */
export type MySupportSession = components["schemas"]["MySupportSession"];
export type SupportImageRequest = components["schemas"]["SupportImageRequest"];
export type OperatorSession = paths["/v1/admin/support-sessions"]["get"]["responses"][200]["content"]["application/json"]["items"][number];
export type SupportFacts = components["schemas"]["SupportSessionFacts"];

const mine = ["me", "support-sessions"] as const;

/** The user's open support sessions; polled so a session opened now shows up without a reload. */
export function useMySupportSessions() {
  const api = useApi();
  return useQuery({ queryKey: mine, refetchInterval: 15_000, queryFn: async () => unwrap(await api.GET("/v1/me/support-sessions")).items });
}

export function useMySupportActions() {
  const api = useApi();
  const { stepUp } = useAuth();
  const qc = useQueryClient();
  const done = () => qc.invalidateQueries({ queryKey: mine });
  const end = useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/v1/me/support-sessions/{id}/end", { params: { path: { id } } })),
    onSuccess: done,
  });
  const allow = useMutation({
    mutationFn: (id: string) =>
      stepUp(async () => unwrap(await api.POST("/v1/me/support-image-requests/{id}/allow", { params: { path: { id } } }))),
    onSuccess: done,
  });
  const refuse = useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/v1/me/support-image-requests/{id}/refuse", { params: { path: { id } } })),
    onSuccess: done,
  });
  return { end, allow, refuse };
}

const operator = ["admin", "support-sessions"] as const;

export function useOperatorSessions(enabled: boolean) {
  const api = useApi();
  return useQuery({ queryKey: operator, enabled, queryFn: async () => unwrap(await api.GET("/v1/admin/support-sessions")).items });
}

export type OpenSessionInput = NonNullable<paths["/v1/admin/support-sessions"]["post"]["requestBody"]>["content"]["application/json"];

export function useOperatorSupportActions() {
  const api = useApi();
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries({ queryKey: ["admin"] });
  const open = useMutation({
    mutationFn: async (body: OpenSessionInput) => unwrap(await api.POST("/v1/admin/support-sessions", { body })),
    onSuccess: refresh,
  });
  const end = useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/v1/admin/support-sessions/{id}/end", { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const facts = useMutation({
    mutationFn: async (id: string) => unwrap(await api.GET("/v1/admin/support-sessions/{id}/facts", { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const request = useMutation({
    mutationFn: async (v: { sessionId: string; generationId: string; reason: string }) =>
      unwrap(
        await api.POST("/v1/admin/support-sessions/{id}/image-requests", {
          params: { path: { id: v.sessionId } },
          body: { generationId: v.generationId, reason: v.reason },
        }),
      ),
    onSuccess: refresh,
  });
  const approve = useMutation({
    mutationFn: async (v: { id: string; note: string }) =>
      unwrap(await api.POST("/v1/admin/support-image-requests/{id}/approve", { params: { path: { id: v.id } }, body: { note: v.note } })),
    onSuccess: refresh,
  });
  /** The picture's bytes as an object URL (the caller revokes it). */
  const picture = useMutation({
    mutationFn: async (v: { id: string; index: number }) => {
      const res = await api.GET("/v1/admin/support-image-requests/{id}/images/{index}", {
        params: { path: { id: v.id, index: v.index } },
        parseAs: "blob",
      });
      const blob = unwrap(res);
      return { url: URL.createObjectURL(blob as Blob), count: Number(res.response.headers.get("x-picture-count") ?? "1") };
    },
    onSuccess: refresh,
  });
  return { open, end, facts, request, approve, picture };
}
