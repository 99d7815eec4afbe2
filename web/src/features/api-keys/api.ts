import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { SCOPES, type Scope } from "#shared/auth-types";
import { unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";
import { useAuth } from "../auth/context";
import { useApi } from "../auth/useApi";

export type ApiKey = components["schemas"]["ApiKey"];
export type CreatedApiKey = components["schemas"]["CreatedApiKey"];
export type CreateApiKeyRequest = components["schemas"]["CreateApiKeyRequest"];
export { SCOPES, type Scope };

/** What each scope lets a key do, in words (the API's own list is worker/auth/types.ts). */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  "photos:read": "See your uploaded parent photos' details",
  "photos:write": "Upload and delete parent photos",
  "generations:read": "See your pictures and download them",
  "generations:write": "Make, cancel and delete pictures (spends credits)",
  "account:read": "Read your account, balance, credit history and activity log",
  "billing:write": "Start credit purchases",
};

export const EXPIRY_CHOICES = [
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
  { days: null, label: "Never (not recommended)" },
] as const;

const keysKey = ["api-keys"] as const;

export function useApiKeys() {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: keysKey,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => unwrap(await api.GET("/v1/api-keys", { params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor,
  });
}

export function useCreateApiKey() {
  const api = useApi();
  const { stepUp } = useAuth();
  const queryClient = useQueryClient();
  return useMutation({
    // A key with a write scope needs a recent sign-in check (403 reverification_required otherwise).
    mutationFn: (body: CreateApiKeyRequest) => stepUp(async () => unwrap(await api.POST("/v1/api-keys", { body }))),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keysKey }),
  });
}

export function useRevokeApiKey() {
  const api = useApi();
  const { stepUp } = useAuth();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      stepUp(async () => {
        const result = await api.DELETE("/v1/api-keys/{id}", { params: { path: { id } } });
        if (!result.response.ok) unwrap(result);
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keysKey }),
  });
}

export { keyState, type KeyState } from "./key-state";
