import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import type { ApiClient } from "../../lib/api/client";
import { unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";
import { useApi } from "../auth/useApi";
import { useDeleteGenerationRequest } from "../generations/api";
import { linkRefreshIn } from "./link-timing";

export type Generation = components["schemas"]["Generation"];
export type GenerationOutput = components["schemas"]["GenerationOutput"];

const PAGE_SIZE = 24;
export const GENERATION_ID = /^gen_[0-9a-f]{32}$/;

export const generationKeys = {
  all: ["generations"] as const,
  list: () => ["generations", "list"] as const,
  one: (id: string) => ["generations", "one", id] as const,
};

export const isRunning = (g: Pick<Generation, "status">) => g.status === "queued" || g.status === "submitted";

/** GET /v1/generations, newest first, one cursor page at a time. */
export function useGenerations() {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: generationKeys.list(),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      unwrap(await api.GET("/v1/generations", { params: { query: { limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor,
    // Every list call is recorded in the user's activity log, so do not
    // refetch on each focus; links are renewed before they expire instead.
    staleTime: 60_000,
    refetchInterval: (query) => linkRefreshIn((query.state.data?.pages ?? []).flatMap((p) => p.items.flatMap((g) => g.outputs.map((o) => o.urlExpiresAt)))),
  });
}

/** GET /v1/generations/:id; polls while it runs, renews links before they expire. `enabled: false` once it is deleted. */
export function useGeneration(id: string, enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: generationKeys.one(id),
    queryFn: async () => unwrap(await api.GET("/v1/generations/{id}", { params: { path: { id } } })),
    enabled: enabled && GENERATION_ID.test(id),
    staleTime: 60_000,
    refetchInterval: (query) => {
      const g = query.state.data;
      if (!g) return false;
      return isRunning(g) ? 3_000 : linkRefreshIn(g.outputs.map((o) => o.urlExpiresAt));
    },
  });
}

/** Deletes from the gallery (DELETE /v1/generations/:id, answering a receipt): the lists and the balance refresh. */
export function useDeleteGeneration(id: string) {
  return useDeleteGenerationRequest(id, async (queryClient) => {
    // The detail page drops its own query once it shows the receipt (see GalleryItem); here only the lists.
    // A running generation is refunded when deleted.
    await Promise.all([queryClient.invalidateQueries({ queryKey: generationKeys.list() }), queryClient.invalidateQueries({ queryKey: ["me"] })]);
  });
}

const EXTENSIONS: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp" };

/**
 * Downloads one output through the owner-only path (with the session token,
 * audited as `file.downloaded`) and saves it with a file name. A link's
 * `download` attribute is ignored across origins, hence the blob.
 */
export async function downloadOutput(api: ApiClient, generationId: string, output: GenerationOutput): Promise<void> {
  const result = await api.GET("/v1/generations/{id}/outputs/{objectId}", {
    params: { path: { id: generationId, objectId: output.id } },
    parseAs: "blob",
  });
  const blob = unwrap(result);
  const href = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = href;
  a.download = `babypic-${output.id}.${EXTENSIONS[output.contentType] ?? "jpg"}`;
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before the blob goes.
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
