/** Webhook endpoints of a user: create, list, rotate, delete (routes/webhook-endpoints.ts). */
import { and, desc, eq } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { newId } from "../../lib/ids";
import type { Services } from "../types";
import { WEBHOOK_EVENTS, type WebhookEvent } from "./event-types";
import { generateSecret, sealSecret } from "./signing";

export { WEBHOOK_EVENTS, type WebhookEvent };
export const MAX_ENDPOINTS = 10;
/** How long a rotated-out secret keeps signing alongside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

export function parseEvents(events: string): WebhookEvent[] {
  return events.split(" ").filter((e): e is WebhookEvent => (WEBHOOK_EVENTS as readonly string[]).includes(e));
}

export async function listEndpoints(s: Services, userId: string): Promise<EndpointRow[]> {
  return s.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId)).orderBy(desc(webhookEndpoints.createdAt)).all();
}

export async function getEndpoint(s: Services, userId: string, id: string): Promise<EndpointRow | undefined> {
  return s.db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId))).get();
}

export async function createEndpoint(
  s: Services,
  userId: string,
  input: { url: string; events: readonly WebhookEvent[] },
): Promise<{ ok: true; row: EndpointRow; secret: string } | { ok: false }> {
  const existing = await listEndpoints(s, userId);
  if (existing.length >= MAX_ENDPOINTS) return { ok: false };
  const secret = generateSecret();
  const row: EndpointRow = {
    id: newId("whe"),
    userId,
    url: input.url,
    events: [...new Set(input.events)].join(" "),
    secret: await sealSecret(s.config, secret),
    previousSecret: null,
    previousExpiresAt: null,
    createdAt: s.now(),
  };
  await s.db.insert(webhookEndpoints).values(row);
  return { ok: true, row, secret };
}

/** New secret; the current one keeps signing alongside it for ROTATION_OVERLAP_MS. */
export async function rotateSecret(s: Services, row: EndpointRow): Promise<{ row: EndpointRow; secret: string }> {
  const secret = generateSecret();
  const next = { ...row, secret: await sealSecret(s.config, secret), previousSecret: row.secret, previousExpiresAt: s.now() + ROTATION_OVERLAP_MS };
  await s.db
    .update(webhookEndpoints)
    .set({ secret: next.secret, previousSecret: next.previousSecret, previousExpiresAt: next.previousExpiresAt })
    .where(eq(webhookEndpoints.id, row.id));
  return { row: next, secret };
}

export async function deleteEndpoint(s: Services, row: EndpointRow): Promise<void> {
  await s.db.batch([
    s.db.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, row.id)),
    s.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, row.id)),
  ]);
}

/** Sealed secrets that sign now: the current one, plus the previous one during its overlap. */
export function activeSealedSecrets(row: EndpointRow, now: number): string[] {
  return row.previousSecret && row.previousExpiresAt !== null && row.previousExpiresAt > now ? [row.secret, row.previousSecret] : [row.secret];
}

export const DELIVERY_LOG_LIMIT = 50;

export async function listDeliveries(s: Services, endpointId: string) {
  return s.db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(desc(webhookDeliveries.at), desc(webhookDeliveries.attempt))
    .limit(DELIVERY_LOG_LIMIT)
    .all();
}
