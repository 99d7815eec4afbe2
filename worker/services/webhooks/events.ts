/**
 * Emitting events: one `webhook.deliver` message per subscribed endpoint.
 * Payloads carry ids and status only (`{type, timestamp, data}`): never
 * images, signed URLs, emails or personal fields. Emitting never fails the
 * caller's work: an error is logged and swallowed.
 */
import { eq } from "drizzle-orm";
import { webhookEndpoints } from "../../db/schema";
import { newId } from "../../lib/ids";
import { errorName, logger } from "../../lib/log";
import type { Services } from "../types";
import { activeSealedSecrets, parseEvents, type WebhookEvent } from "./endpoints";

export type EventData = Record<string, string | number | null>;

export async function emitEvent(s: Services, userId: string, type: WebhookEvent, data: EventData, opts: { capture?: boolean } = {}): Promise<number> {
  try {
    const rows = (await s.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId)).all()).filter((r) => parseEvents(r.events).includes(type));
    const timestamp = new Date(s.now()).toISOString();
    for (const row of rows) {
      await s.env.JOBS.send({
        kind: "webhook.deliver",
        endpointId: row.id,
        eventId: newId("evt"),
        type,
        timestamp,
        data,
        attempt: 1,
        ...(opts.capture ? { target: { url: row.url, secrets: activeSealedSecrets(row, s.now()) } } : {}),
      });
    }
    return rows.length;
  } catch (err) {
    logger.error("webhook.emit_failed", { type, name: errorName(err) });
    return 0;
  }
}
