/**
 * Creem (merchant of record) REST client and webhook verification.
 *
 * - Checkout: `POST {CREEM_API_URL}/v1/checkouts` with the `x-api-key` header;
 *   test mode is simply the test API host (https://test-api.creem.io) and a
 *   test key. Card data stays on Creem's hosted page: we only ever see ids,
 *   amounts and statuses.
 * - Webhooks: `creem-signature` is the hex HMAC-SHA256 (RFC 2104) of the raw
 *   request body under the webhook secret. Verified over the exact bytes
 *   received, before parsing, and compared in constant time.
 */
import { z } from "zod";
import type { Config } from "../env";
import { DomainError } from "../lib/domain-error";
import { timingSafeEqual, toHex, utf8 } from "../lib/bytes";
import { errorName, logger } from "../lib/log";
import type { Check } from "../lib/result";

const CHECKOUT_TIMEOUT_MS = 10_000;

export interface CreemCheckoutInput {
  productId: string;
  /** Our request id, echoed by Creem in the checkout and its webhooks. */
  requestId: string;
  /** Our internal user id (never the identity provider's subject or an email). */
  userId: string;
  successUrl: string;
}

export interface CreemCheckout {
  id: string;
  checkoutUrl: string;
}

const CheckoutResponse = z.object({
  id: z.string().min(1).max(200),
  checkout_url: z.url({ protocol: /^https?$/ }),
});

/** Creates a hosted checkout session; any failure is a 503 `upstream_unavailable` with no upstream details. */
export async function createCreemCheckout(config: Config, input: CreemCheckoutInput): Promise<CreemCheckout> {
  const apiKey = config.CREEM_API_KEY;
  if (!apiKey) throw new DomainError("unavailable", "Payments are not configured on this server.");
  const url = new URL("/v1/checkouts", config.CREEM_API_URL);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "x-api-key": apiKey, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        product_id: input.productId,
        request_id: input.requestId,
        success_url: input.successUrl,
        metadata: { userId: input.userId, requestId: input.requestId },
      }),
      signal: AbortSignal.timeout(CHECKOUT_TIMEOUT_MS),
    });
  } catch (err) {
    logger.error("creem_checkout_failed", { reason: "network", name: errorName(err) });
    throw new DomainError("unavailable", "The payment provider could not be reached. Try again shortly.", { retryAfter: 30 });
  }
  if (!res.ok) {
    // Creem's error bodies can echo request fields; log the status only.
    logger.error("creem_checkout_failed", { reason: "status", status: res.status });
    throw new DomainError("unavailable", "The payment provider refused to start a checkout. Try again shortly.", { retryAfter: 30 });
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const parsed = CheckoutResponse.safeParse(body);
  if (!parsed.success) {
    logger.error("creem_checkout_failed", { reason: "bad-response" });
    throw new DomainError("unavailable", "The payment provider answered unexpectedly. Try again shortly.", { retryAfter: 30 });
  }
  return { id: parsed.data.id, checkoutUrl: parsed.data.checkout_url };
}

export type SignatureResult = Check<"missing-signature" | "malformed-signature" | "signature-mismatch">;

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

export async function creemSignature(secret: string, rawBody: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, rawBody as Uint8Array<ArrayBuffer>));
}

/**
 * Checks `creem-signature` against the raw body. The reason is for the
 * security log only; the wire gets one generic 401.
 */
export async function verifyCreemSignature(secret: string, rawBody: Uint8Array, header: string | null | undefined): Promise<SignatureResult> {
  if (!header) return { ok: false, reason: "missing-signature" };
  const provided = header.trim();
  if (!HEX_SHA256.test(provided)) return { ok: false, reason: "malformed-signature" };
  const expected = await creemSignature(secret, rawBody);
  return timingSafeEqual(utf8(expected), utf8(provided.toLowerCase())) ? { ok: true } : { ok: false, reason: "signature-mismatch" };
}

const Id = z.string().min(1).max(200);
const Metadata = z.record(z.string(), z.unknown()).nullish();

/** Every Creem event: `{ id, eventType, created_at, object }`. */
export const CreemEventEnvelope = z.object({
  id: Id,
  eventType: z.string().min(1).max(100),
  object: z.unknown(),
});

export const CheckoutCompletedObject = z.object({
  id: Id,
  object: z.literal("checkout").optional(),
  request_id: z.string().max(200).nullish(),
  status: z.string().max(50).optional(),
  /** "test" (or "sandbox"/"local") for Creem's test mode, "prod" for live payments. */
  mode: z.string().max(20).optional(),
  /** A string id, or the expanded product. */
  product: z.union([Id, z.object({ id: Id })]).nullish(),
  order: z
    .object({
      id: Id,
      amount: z.number().int().nonnegative(),
      currency: z.string().min(3).max(3),
      status: z.string().max(50),
      product: Id.nullish(),
      transaction: Id.nullish(),
    })
    .nullish(),
  metadata: Metadata,
});
export type CheckoutCompletedObject = z.infer<typeof CheckoutCompletedObject>;

export const RefundCreatedObject = z.object({
  id: Id,
  object: z.literal("refund").optional(),
  status: z.string().max(50).optional(),
  refund_amount: z.number().int().nonnegative().nullish(),
  refund_currency: z.string().min(3).max(3).nullish(),
  checkout: z.object({ id: Id, metadata: Metadata }).nullish(),
  transaction: z.object({ id: Id }).nullish(),
});
export type RefundCreatedObject = z.infer<typeof RefundCreatedObject>;
