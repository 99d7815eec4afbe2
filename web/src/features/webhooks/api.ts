import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { WEBHOOK_EVENTS } from "#shared/webhook-event-types";
import { unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";
import { useApi } from "../auth/useApi";

export type WebhookEndpoint = components["schemas"]["WebhookEndpoint"];
export type WebhookEndpointWithSecret = components["schemas"]["WebhookEndpointWithSecret"];
export type WebhookDelivery = components["schemas"]["WebhookDelivery"];
export type WebhookTestResult = components["schemas"]["WebhookTestResult"];
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export { WEBHOOK_EVENTS };

export const EVENT_DESCRIPTIONS: Record<WebhookEvent, string> = {
  "generation.completed": "A picture is ready",
  "generation.failed": "A picture could not be made (credits refunded)",
  "export.ready": "Your data export is ready to download",
  "account.deleted": "Your account is being deleted",
};

const endpointsKey = ["webhook-endpoints"] as const;

export function useWebhookEndpoints() {
  const api = useApi();
  return useQuery({ queryKey: endpointsKey, queryFn: async () => unwrap(await api.GET("/v1/webhook-endpoints")) });
}

export function useWebhookDeliveries(id: string, enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: [...endpointsKey, id, "deliveries"],
    enabled,
    queryFn: async () => unwrap(await api.GET("/v1/webhook-endpoints/{id}/deliveries", { params: { path: { id } } })),
  });
}

export function useCreateWebhookEndpoint() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: { url: string; events: WebhookEvent[] }) => unwrap(await api.POST("/v1/webhook-endpoints", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: endpointsKey }),
  });
}

export function useRotateWebhookSecret() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/v1/webhook-endpoints/{id}/rotate-secret", { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: endpointsKey }),
  });
}

export function useTestWebhook() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/v1/webhook-endpoints/{id}/test", { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: endpointsKey }),
  });
}

export function useDeleteWebhookEndpoint() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      const result = await api.DELETE("/v1/webhook-endpoints/{id}", { params: { path: { id } } });
      if (!result.response.ok) unwrap(result);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: endpointsKey }),
  });
}
