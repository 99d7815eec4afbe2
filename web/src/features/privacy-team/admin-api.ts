import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap } from "../../lib/api/problem";
import type { components, paths } from "../../lib/api/schema";
import { useApi } from "../auth/useApi";

export type AdminPrivacyRequest = components["schemas"]["AdminPrivacyRequest"];
export type OperatorLogEntry = components["schemas"]["OperatorLogEntry"];

export const adminKeys = {
  requests: ["admin", "privacy-requests"] as const,
  log: ["admin", "operator-log"] as const,
};

/** A 404 here means "not an operator": the console then shows the not-found view. */
export function usePrivacyInbox() {
  const api = useApi();
  return useQuery({ queryKey: adminKeys.requests, queryFn: async () => unwrap(await api.GET("/v1/admin/privacy-requests")).items });
}

/** The operator log, newest first, one page at a time: "Show older entries" follows nextCursor, so no entry is out of reach. */
export function useOperatorLog(enabled: boolean) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: adminKeys.log,
    enabled,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => unwrap(await api.GET("/v1/admin/operator-log", { params: { query: { limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor,
  });
}

function useRefresh() {
  const qc = useQueryClient();
  return () => void qc.invalidateQueries({ queryKey: ["admin"] });
}

export function useSetRequestStatus() {
  const api = useApi();
  const refresh = useRefresh();
  return useMutation({
    mutationFn: async (v: { id: string; status: "verifying" | "in_progress" | "completed" | "rejected"; note: string }) =>
      unwrap(await api.POST("/v1/admin/privacy-requests/{id}/status", { params: { path: { id: v.id } }, body: { status: v.status, note: v.note } })),
    onSuccess: refresh,
  });
}

export function useTakedown() {
  const api = useApi();
  const refresh = useRefresh();
  return useMutation({
    mutationFn: async (v: { id: string; generationId: string; note: string }) =>
      unwrap(await api.POST("/v1/admin/privacy-requests/{id}/takedown", { params: { path: { id: v.id } }, body: { generationId: v.generationId, note: v.note } })),
    onSuccess: refresh,
  });
}

export type AdminIncident = components["schemas"]["AdminIncident"];

export function useIncidents(enabled: boolean) {
  const api = useApi();
  return useQuery({ queryKey: ["admin", "incidents"], enabled, queryFn: async () => unwrap(await api.GET("/v1/admin/incidents")).items });
}

export type NewIncident = NonNullable<paths["/v1/admin/incidents"]["post"]["requestBody"]>["content"]["application/json"];

export function useDeclareIncident() {
  const api = useApi();
  const refresh = useRefresh();
  return useMutation({ mutationFn: async (body: NewIncident) => unwrap(await api.POST("/v1/admin/incidents", { body })), onSuccess: refresh });
}

export function useIncidentActions() {
  const api = useApi();
  const refresh = useRefresh();
  const path = (id: string) => ({ params: { path: { id } } });
  return {
    notify: useMutation({ mutationFn: async (id: string) => unwrap(await api.POST("/v1/admin/incidents/{id}/notify-users", { ...path(id), body: { confirm: true } })), onSuccess: refresh }),
    authority: useMutation({
      mutationFn: async (v: { id: string; note: string }) => unwrap(await api.POST("/v1/admin/incidents/{id}/authority-notified", { ...path(v.id), body: { note: v.note } })),
      onSuccess: refresh,
    }),
    publish: useMutation({
      mutationFn: async (v: { id: string; postMortem: string }) => unwrap(await api.POST("/v1/admin/incidents/{id}/publish", { ...path(v.id), body: { postMortem: v.postMortem } })),
      onSuccess: refresh,
    }),
  };
}

export type LegalDemand = components["schemas"]["LegalDemand"];
export type NewDemand = NonNullable<paths["/v1/admin/legal-demands"]["post"]["requestBody"]>["content"]["application/json"];
export type DemandDecision = NonNullable<paths["/v1/admin/legal-demands/{id}/decision"]["post"]["requestBody"]>["content"]["application/json"];
export type DemandNotification = NonNullable<paths["/v1/admin/legal-demands/{id}/notification"]["post"]["requestBody"]>["content"]["application/json"];

export function useLegalDemands(enabled: boolean) {
  const api = useApi();
  return useQuery({ queryKey: ["admin", "legal-demands"], enabled, queryFn: async () => unwrap(await api.GET("/v1/admin/legal-demands")).items });
}

export function useLegalDemandActions() {
  const api = useApi();
  const refresh = useRefresh();
  return {
    record: useMutation({ mutationFn: async (body: NewDemand) => unwrap(await api.POST("/v1/admin/legal-demands", { body })), onSuccess: refresh }),
    decide: useMutation({
      mutationFn: async (v: { id: string; body: DemandDecision }) => unwrap(await api.POST("/v1/admin/legal-demands/{id}/decision", { params: { path: { id: v.id } }, body: v.body })),
      onSuccess: refresh,
    }),
    notify: useMutation({
      mutationFn: async (v: { id: string; body: DemandNotification }) =>
        unwrap(await api.POST("/v1/admin/legal-demands/{id}/notification", { params: { path: { id: v.id } }, body: v.body })),
      onSuccess: refresh,
    }),
  };
}
