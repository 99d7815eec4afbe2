import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { isReverificationRequired, unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";
import { useAuth } from "../auth/context";
import { useApi } from "../auth/useApi";

export type ConsentState = components["schemas"]["Consent"];
export type ExportJob = components["schemas"]["Export"];
export type KeepPhotosDays = components["schemas"]["Settings"]["keepPhotosDays"];

export const accountKeys = {
  consent: ["me", "consent"] as const,
  settings: ["me", "settings"] as const,
  latestExport: ["exports", "latest"] as const,
  export: (id: string) => ["exports", "one", id] as const,
};

export function useConsent() {
  const api = useApi();
  return useQuery({ queryKey: accountKeys.consent, queryFn: async () => unwrap(await api.GET("/v1/me/consent")) });
}

/** DELETE /v1/me/consent: processing stops at once; the answer offers account deletion. */
export function useWithdrawConsent() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/v1/me/consent")),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["me"] }),
  });
}

export function useSettings() {
  const api = useApi();
  return useQuery({ queryKey: accountKeys.settings, queryFn: async () => unwrap(await api.GET("/v1/me/settings")) });
}

export function useSaveSettings() {
  const api = useApi();
  const { stepUp } = useAuth();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (keepPhotosDays: KeepPhotosDays) => stepUp(async () => unwrap(await api.PATCH("/v1/me/settings", { body: { keepPhotosDays } }))),
    onSuccess: (settings) => {
      queryClient.setQueryData(accountKeys.settings, settings);
      return queryClient.invalidateQueries({ queryKey: ["me"], exact: true });
    },
  });
}

export function useSupportAccess() {
  const api = useApi();
  const { stepUp } = useAuth();
  const queryClient = useQueryClient();
  const done = () => queryClient.invalidateQueries({ queryKey: ["me"], exact: true });
  const grant = useMutation({
    mutationFn: (hours: number) => stepUp(async () => unwrap(await api.PUT("/v1/me/support-access", { body: { hours } }))),
    onSuccess: done,
  });
  const revoke = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/v1/me/support-access")),
    onSuccess: done,
  });
  return { grant, revoke };
}

const EXPORT_RUNNING = new Set<ExportJob["status"]>(["queued", "building"]);
export const exportRunning = (e: ExportJob) => EXPORT_RUNNING.has(e.status);

/**
 * The newest export that has not expired, from the list (which has no
 * links), then its own GET (which issues a fresh one-hour download link).
 */
export function useLatestExport() {
  const api = useApi();
  const latest = useQuery({
    queryKey: accountKeys.latestExport,
    queryFn: async () => {
      const page = unwrap(await api.GET("/v1/account/exports", { params: { query: { limit: 1 } } }));
      const first = page.items[0];
      return first && Date.parse(first.expiresAt) > Date.now() ? first.id : null;
    },
  });
  const id = latest.data ?? null;
  const job = useQuery({
    queryKey: accountKeys.export(id ?? "none"),
    enabled: id !== null,
    queryFn: async () => unwrap(await api.GET("/v1/account/exports/{id}", { params: { path: { id: id ?? "" } } })),
    refetchInterval: (query) => {
      const e = query.state.data;
      if (!e) return false;
      if (exportRunning(e)) return 1_500;
      const until = e.download ? Date.parse(e.download.expiresAt) - Date.now() - 60_000 : NaN;
      return Number.isFinite(until) && until > 0 && e.status === "ready" ? until : false;
    },
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    // A refusal for want of a recent sign-in check is not a failure to retry.
    retry: (count, error) => !isReverificationRequired(error) && count < 3,
  });
  return { latest, job };
}

/**
 * A ready export's download link needs a recent sign-in check: when the poll
 * answered 403 reverification_required, this asks for it and stores the answer.
 */
export function useUnlockExport(id: string | null) {
  const api = useApi();
  const { stepUp } = useAuth();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => stepUp(async () => unwrap(await api.GET("/v1/account/exports/{id}", { params: { path: { id: id ?? "" } } }))),
    onSuccess: (job) => queryClient.setQueryData(accountKeys.export(job.id), job),
  });
}

export function useRequestExport() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/account/exports")),
    onSuccess: (job) => {
      queryClient.setQueryData(accountKeys.export(job.id), job);
      queryClient.setQueryData(accountKeys.latestExport, job.id);
    },
  });
}

export function useDeleteAccount() {
  const api = useApi();
  const { stepUp } = useAuth();
  return useMutation({
    mutationFn: () => stepUp(async () => unwrap(await api.DELETE("/v1/account", { body: { confirm: "DELETE" } }))),
  });
}
