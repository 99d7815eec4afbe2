/**
 * One delivery attempt of an outgoing webhook, and the retry schedule
 * (docs/decisions/0016-outgoing-webhooks.md). The target is checked against
 * the SSRF guard again before every attempt (DNS can change), redirects are
 * failures (`redirect: "manual"`), the attempt times out, and at most
 * RESPONSE_CAP bytes of the answer are read. Each attempt of an endpoint that
 * still exists writes one delivery-log row (never the payload or signature).
 */
import { eq } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { newId } from "../../lib/ids";
import { log } from "../../lib/log";
import type { ParsedJobMessage } from "../../queue/messages";
import type { Services } from "../types";
import { activeSealedSecrets } from "./endpoints";
import { openSecret, signatureHeader } from "./signing";
import { checkTarget } from "./ssrf";

export type DeliverMessage = Extract<ParsedJobMessage, { kind: "webhook.deliver" }>;

/** Seconds to wait before attempt n+1 after attempt n failed: 8 attempts over about 20.6 hours. Queues allow at most 12 h per delay. */
export const RETRY_DELAYS_S = [30, 120, 600, 1800, 7200, 21600, 43200] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_S.length + 1;
export const DELIVERY_TIMEOUT_MS = 10_000;
export const RESPONSE_CAP = 64 * 1024;

export type ErrorClass = "http_status" | "timeout" | "network" | "redirect" | "refused_target";
export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  errorClass: ErrorClass | null;
}

/** The exact body that is signed and sent: ids and status only (see services/webhooks/events.ts). */
export function payloadBody(msg: Pick<DeliverMessage, "type" | "timestamp" | "data">): string {
  return JSON.stringify({ type: msg.type, timestamp: msg.timestamp, data: msg.data });
}

/** Reads and discards at most `cap` bytes of a body, so a huge or endless answer costs nothing. */
async function drain(res: Response, cap: number): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) return;
  let seen = 0;
  try {
    while (seen <= cap) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Sends one signed request. Never throws. */
export async function sendOnce(
  s: Services,
  target: { url: string; sealedSecrets: readonly string[] },
  msg: Pick<DeliverMessage, "eventId" | "type" | "timestamp" | "data">,
  opts: { timeoutMs?: number } = {},
): Promise<AttemptResult> {
  const check = await checkTarget(target.url, s.config.ENVIRONMENT);
  if (!check.ok) return { ok: false, statusCode: null, errorClass: "refused_target" };
  const body = payloadBody(msg);
  const timestamp = Math.floor(s.now() / 1000);
  const secrets = await Promise.all(target.sealedSecrets.map((sealed) => openSecret(s.config, sealed)));
  const signal = AbortSignal.timeout(opts.timeoutMs ?? DELIVERY_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(check.url.toString(), {
      method: "POST",
      redirect: "manual",
      signal,
      headers: {
        "content-type": "application/json",
        "user-agent": "BabyPic-Webhooks/1",
        "webhook-id": msg.eventId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signatureHeader(secrets, msg.eventId, timestamp, body),
      },
      body,
    });
  } catch (err) {
    const timedOut = signal.aborted || (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"));
    return { ok: false, statusCode: null, errorClass: timedOut ? "timeout" : "network" };
  }
  try {
    await Promise.race([
      drain(res, RESPONSE_CAP),
      new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
      }),
    ]);
  } catch {
    // The status decides; a broken body after it does not matter.
  }
  if (res.status >= 300 && res.status < 400) return { ok: false, statusCode: res.status, errorClass: "redirect" };
  if (res.status < 200 || res.status >= 300) return { ok: false, statusCode: res.status, errorClass: "http_status" };
  return { ok: true, statusCode: res.status, errorClass: null };
}

/**
 * The queue handler for `webhook.deliver`: one attempt, a log row, and on
 * failure the next attempt as a new message delayed by RETRY_DELAYS_S
 * (Queues' own `delaySeconds`), until MAX_ATTEMPTS. Returns the attempt's result.
 */
export async function deliverWebhook(s: Services, msg: DeliverMessage, opts: { timeoutMs?: number } = {}): Promise<AttemptResult | null> {
  let target: { url: string; sealedSecrets: readonly string[] };
  let userId: string | null = null;
  if (msg.target) {
    target = { url: msg.target.url, sealedSecrets: msg.target.secrets };
  } else {
    const row = await s.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, msg.endpointId)).get();
    if (!row) return null; // deleted since: nothing to deliver, nothing to log
    target = { url: row.url, sealedSecrets: activeSealedSecrets(row, s.now()) };
    userId = row.userId;
  }
  const result = await sendOnce(s, target, msg, opts);
  const final = result.ok || msg.attempt >= MAX_ATTEMPTS;
  if (userId !== null) {
    await s.db.insert(webhookDeliveries).values({
      id: newId("whd"),
      endpointId: msg.endpointId,
      userId,
      eventId: msg.eventId,
      eventType: msg.type,
      attempt: msg.attempt,
      statusCode: result.statusCode,
      errorClass: result.errorClass,
      final: final ? 1 : 0,
      at: s.now(),
    });
    // Deleted (with its account) while this attempt ran: the row just written must not outlive it.
    const still = await s.db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.id, msg.endpointId)).get();
    if (!still) {
      await s.db.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, msg.endpointId));
      return result;
    }
  }
  if (!final) {
    await s.env.JOBS.send({ ...msg, attempt: msg.attempt + 1 }, { delaySeconds: RETRY_DELAYS_S[msg.attempt - 1] ?? RETRY_DELAYS_S[RETRY_DELAYS_S.length - 1] });
  }
  log(result.ok ? "info" : "warn", "webhook.attempt", { endpointId: msg.endpointId, type: msg.type, attempt: msg.attempt, statusCode: result.statusCode, errorClass: result.errorClass, final });
  return result;
}
