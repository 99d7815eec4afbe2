/**
 * Generations from the SPA's side: create with an Idempotency-Key kept for
 * the attempt, poll until terminal, cancel, delete, download.
 */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useRef } from "react";
import { ApiError, unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";
import { useApi } from "../auth/useApi";

export type Generation = components["schemas"]["Generation"];
export type GenerationOutput = components["schemas"]["GenerationOutput"];
export type DeletionReceipt = components["schemas"]["DeletionReceipt"];
export type CreateGenerationBody = components["schemas"]["CreateGeneration"];

export const TERMINAL: ReadonlySet<Generation["status"]> = new Set(["completed", "failed", "canceled"]);
export const isTerminal = (g: Pick<Generation, "status">) => TERMINAL.has(g.status);

/** About once a second and a half while running; the API's progress changes no faster. */
export const POLL_MS = 1500;
/** Fetch fresh image links this long before the current ones expire (they live at most an hour). */
const LINK_MARGIN_MS = 2 * 60_000;

export const generationKey = (id: string) => ["generation", id] as const;

/** When to refetch a generation: soon while running; before its image links expire once done; never after failure. */
export function nextRefetch(g: Generation | undefined, now = Date.now()): number | false {
  if (!g) return false;
  if (!isTerminal(g)) return POLL_MS;
  const expiries = g.outputs.map((o) => (o.urlExpiresAt ? Date.parse(o.urlExpiresAt) : Number.NaN)).filter(Number.isFinite);
  if (expiries.length === 0) return false;
  return Math.max(30_000, Math.min(...expiries) - now - LINK_MARGIN_MS);
}

export function useGeneration(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: generationKey(id),
    queryFn: async () => unwrap(await api.GET("/v1/generations/{id}", { params: { path: { id } } })),
    refetchInterval: (query) => nextRefetch(query.state.data),
    // Keep polling when the tab is in the background: the user expects it to be done when they come back.
    refetchIntervalInBackground: true,
  });
}

/**
 * POST /v1/generations with one Idempotency-Key per attempt: the same choices
 * reuse the key (a double click or a retry after a network error returns the
 * same generation, charged once); changing any choice, or an answer from the
 * server, starts a new attempt.
 */
export function useCreateGeneration() {
  const api = useApi();
  const queryClient = useQueryClient();
  const attempt = useRef<{ body: string; key: string } | null>(null);
  return useMutation({
    mutationFn: async (body: CreateGenerationBody) => {
      const fingerprint = JSON.stringify(body);
      if (attempt.current?.body !== fingerprint) attempt.current = { body: fingerprint, key: crypto.randomUUID() };
      return unwrap(await api.POST("/v1/generations", { params: { header: { "idempotency-key": attempt.current.key } }, body }));
    },
    onSuccess: (gen) => {
      queryClient.setQueryData(generationKey(gen.id), gen);
      void queryClient.invalidateQueries({ queryKey: ["me"] });
      void queryClient.invalidateQueries({ queryKey: ["generations"] });
    },
    // The server answered, so that attempt is settled (e.g. 402, or 503 after a refund): the next click is a new
    // attempt. Only when the answer never arrived may the request have worked, and a retry must reuse the key.
    onError: (err) => {
      if (err instanceof ApiError) attempt.current = null;
    },
  });
}

export function useCancelGeneration(id: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/generations/{id}/cancel", { params: { path: { id } } })),
    onSuccess: (gen) => {
      queryClient.setQueryData(generationKey(id), gen);
      void queryClient.invalidateQueries({ queryKey: ["me"] });
    },
    // A 409 means it finished meanwhile: show what it became.
    onError: () => queryClient.invalidateQueries({ queryKey: generationKey(id) }),
  });
}

/**
 * DELETE /v1/generations/:id: the images, the record and any export holding
 * them; answers a receipt. `afterDelete` refreshes what the calling page
 * shows (each page keys its generation queries its own way).
 */
export function useDeleteGenerationRequest(id: string, afterDelete: (queryClient: QueryClient) => void | Promise<void>) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/v1/generations/{id}", { params: { path: { id } } })),
    onSuccess: () => afterDelete(queryClient),
  });
}

/** Deletes from the create page: its poll of this generation stops, every list and the balance refresh. */
export function useDeleteGeneration(id: string) {
  return useDeleteGenerationRequest(id, (queryClient) => {
    queryClient.removeQueries({ queryKey: generationKey(id) });
    void queryClient.invalidateQueries({ queryKey: ["generations"] });
    void queryClient.invalidateQueries({ queryKey: ["me"] });
  });
}

/** A fresh signed attachment link for one output (minted on request, so the audit log shows each download). */
export function useDownloadLink(generationId: string) {
  const api = useApi();
  return useMutation({
    mutationFn: async (objectId: string) =>
      unwrap(
        await api.POST("/v1/generations/{id}/outputs/{objectId}/download-link", {
          params: { path: { id: generationId, objectId } },
        }),
      ),
  });
}
