/** Helpers for billing tests: signed Creem events, like Creem (and scripts/creem-local.mjs) sends them. */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { auditLog, ledger, payments } from "../../worker/db/schema";
import { api, services } from "../helpers";
import { openAuditRows } from "../../worker/services/audit";

export const PRODUCT = "prod_small";
export const PACK_CREDITS = 10;
/** The credits every new account is granted (FREE_CREDITS). */
export const FREE_CREDITS = Number(env.FREE_CREDITS);

export async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function webhookSecret(): string {
  const secret = env.CREEM_WEBHOOK_SECRET;
  if (!secret) throw new Error("CREEM_WEBHOOK_SECRET missing in test env");
  return secret;
}

export function checkoutCompleted(opts: { eventId: string; checkoutId: string; userId: string; productId?: string; amount?: number; status?: string }) {
  return {
    id: opts.eventId,
    eventType: "checkout.completed",
    created_at: 1728734325927,
    object: {
      id: opts.checkoutId,
      object: "checkout",
      request_id: "req_test",
      status: "completed",
      mode: "test",
      order: {
        id: `ord_${opts.checkoutId}`,
        customer: "cust_1OcIK1GEuVvXZwD19tjq2z",
        product: opts.productId ?? PRODUCT,
        amount: opts.amount ?? 499,
        currency: "EUR",
        status: opts.status ?? "paid",
        type: "one_time",
        transaction: `tran_${opts.checkoutId}`,
      },
      product: { id: opts.productId ?? PRODUCT, name: "10 credits", price: 499, currency: "EUR", billing_type: "onetime" },
      customer: { id: "cust_1OcIK1GEuVvXZwD19tjq2z", email: "someone@example.com" },
      metadata: { userId: opts.userId },
    },
  };
}

export function refundCreated(opts: { eventId: string; checkoutId: string; status?: string }) {
  return {
    id: opts.eventId,
    eventType: "refund.created",
    created_at: 1728734351631,
    object: {
      id: `ref_${opts.eventId}`,
      object: "refund",
      status: opts.status ?? "succeeded",
      refund_amount: 499,
      refund_currency: "EUR",
      reason: "requested_by_customer",
      transaction: { id: `tran_${opts.checkoutId}`, status: "refunded" },
      checkout: { id: opts.checkoutId, object: "checkout", status: "completed", metadata: {} },
      order: { id: `ord_${opts.checkoutId}`, amount: 499, currency: "EUR", status: "paid" },
    },
  };
}

/** Posts a body to the webhook, signed with `secret` (the real one unless given) unless `signature` is set. */
export async function postWebhook(body: string, opts: { secret?: string; signature?: string | null; ip?: string } = {}): Promise<Response> {
  const headers = new Headers({ "content-type": "application/json" });
  if (opts.ip) headers.set("cf-connecting-ip", opts.ip);
  if (opts.signature !== null) headers.set("creem-signature", opts.signature ?? (await hmacHex(opts.secret ?? webhookSecret(), body)));
  return api("/v1/webhooks/creem", { method: "POST", body, headers });
}

/** The payments row a checkout started through our API leaves before Creem reports on it (no amount or currency yet). */
export async function insertPendingPayment(id: string, userId: string, checkoutId: string): Promise<void> {
  await services().db.insert(payments).values({
    id,
    userId,
    providerTxnId: checkoutId,
    productId: PRODUCT,
    credits: PACK_CREDITS,
    amount: null,
    currency: null,
    status: "pending",
    createdAt: Date.now(),
    updatedAt: Date.now(),
  });
}

export async function ledgerFor(userId: string, reason: "purchase" | "purchase_reversal") {
  return services()
    .db.select()
    .from(ledger)
    .where(and(eq(ledger.userId, userId), eq(ledger.reason, reason)))
    .all();
}

export async function paymentFor(checkoutId: string) {
  return services().db.select().from(payments).where(eq(payments.providerTxnId, checkoutId)).get();
}

export async function auditActions(userId: string, action: string) {
  return services()
    .db.select()
    .from(auditLog)
    .where(and(eq(auditLog.userId, userId), eq(auditLog.action, action)))
    .all()
    .then((rows) => openAuditRows(services(), rows));
}

export async function balance(user: string): Promise<number> {
  const res = await api("/v1/billing/balance", { user });
  return ((await res.json()) as { credits: number }).credits;
}
