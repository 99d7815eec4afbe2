/**
 * Credit packs, checkout and the Creem webhook's effects (docs/architecture.md).
 *
 * A checkout records a `pending` payment keyed by Creem's checkout id, the
 * one id present in the checkout we create, in `checkout.completed` and in
 * `refund.created`. The webhook then credits the ledger (`purchase`,
 * reference = checkout id) or reverses it (`purchase_reversal`, same
 * reference); the ledger's unique (reason, reference) makes each happen at
 * most once, and the processed event id makes a redelivery a no-op. We keep
 * only the checkout id, amount, currency and status: no card data, no email.
 */
import { and, eq, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { payments, users, webhookEvents } from "../db/schema";
import type { Config } from "../env";
import { DomainError } from "../lib/domain-error";
import { newId } from "../lib/ids";
import { logger } from "../lib/log";
import type { RequestMeta } from "../lib/request-meta";
import { appendAudit } from "./audit";
import { ledgerEntry, ledgerEntryStatement, purchaseReversalStatement } from "./credits";
import { CheckoutCompletedObject, createCreemCheckout, RefundCreatedObject } from "./creem";
import type { Services } from "./types";

export interface CreditPack {
  productId: string;
  name: string;
  credits: number;
  price: string;
}

export function creditPacks(config: Config): CreditPack[] {
  return Object.entries(config.CREEM_PRODUCTS).map(([productId, p]) => ({ productId, name: p.name, credits: p.credits, price: p.price }));
}

export type PaymentRow = typeof payments.$inferSelect;
export type PaymentStatus = "pending" | "completed" | "refunded";

/** Starts a hosted Creem checkout for one of the configured packs and records it as pending. */
export async function startCheckout(
  s: Services,
  input: { userId: string; actor: { type: "user" | "api_key"; id: string }; productId: string; requestId: string; meta: RequestMeta },
): Promise<{ checkoutId: string; checkoutUrl: string; pack: CreditPack }> {
  const pack = creditPacks(s.config).find((p) => p.productId === input.productId);
  if (!pack) {
    throw new DomainError("invalid", "No credit pack has this product id.", {
      fields: [{ field: "productId", message: "must be one of the product ids from GET /v1/billing/packs" }],
    });
  }
  const successUrl = new URL("/billing", s.config.APP_ORIGIN);
  successUrl.searchParams.set("checkout", "success");
  const checkout = await createCreemCheckout(s.config, {
    productId: pack.productId,
    requestId: input.requestId,
    userId: input.userId,
    successUrl: successUrl.toString(),
  });
  const now = s.now();
  await s.db
    .insert(payments)
    .values({
      id: newId("pay"),
      userId: input.userId,
      providerTxnId: checkout.id,
      productId: pack.productId,
      credits: pack.credits,
      amount: null,
      currency: null,
      status: "pending",
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
  await appendAudit(
    s.db,
    {
      userId: input.userId,
      actor: input.actor,
      action: "billing.checkout",
      target: { type: "checkout", id: checkout.id },
      detail: { productId: pack.productId, credits: pack.credits },
      meta: input.meta,
    },
    now,
  );
  return { checkoutId: checkout.id, checkoutUrl: checkout.checkoutUrl, pack };
}

export type WebhookOutcome =
  | { status: "duplicate" }
  | { status: "credited"; userId: string; credits: number }
  | { status: "reversed"; userId: string; credits: number }
  | { status: "ignored"; reason: string };

const eventKey = (eventId: string) => `creem:${eventId}`;

async function alreadyProcessed(db: Db, eventId: string): Promise<boolean> {
  return (await db.select({ id: webhookEvents.id }).from(webhookEvents).where(eq(webhookEvents.id, eventKey(eventId))).get()) !== undefined;
}

function recordEvent(db: Db, eventId: string, now: number) {
  return db.insert(webhookEvents).values({ id: eventKey(eventId), provider: "creem", receivedAt: now }).onConflictDoNothing();
}

async function ignore(db: Db, eventId: string, now: number, reason: string): Promise<WebhookOutcome> {
  await recordEvent(db, eventId, now);
  logger.warn("creem_webhook_ignored", { reason, eventId });
  return { status: "ignored", reason };
}

async function paymentByCheckout(db: Db, checkoutId: string): Promise<PaymentRow | undefined> {
  return db.select().from(payments).where(eq(payments.providerTxnId, checkoutId)).get();
}

/** Applies one verified Creem event. Unknown event types are acknowledged and recorded, never retried. */
export async function applyCreemEvent(
  s: Services,
  event: { id: string; eventType: string; object: unknown },
  meta: RequestMeta,
): Promise<WebhookOutcome> {
  if (await alreadyProcessed(s.db, event.id)) return { status: "duplicate" };
  switch (event.eventType) {
    case "checkout.completed": {
      const parsed = CheckoutCompletedObject.safeParse(event.object);
      if (!parsed.success) throw invalidEvent(parsed.error.issues);
      return creditCheckout(s, event.id, parsed.data, meta);
    }
    case "refund.created": {
      const parsed = RefundCreatedObject.safeParse(event.object);
      if (!parsed.success) throw invalidEvent(parsed.error.issues);
      return reverseRefund(s, event.id, parsed.data, meta);
    }
    default:
      return ignore(s.db, event.id, s.now(), `unhandled-event-type:${event.eventType.slice(0, 50)}`);
  }
}

function invalidEvent(issues: readonly { path: readonly PropertyKey[]; message: string }[]): DomainError {
  return new DomainError("invalid", "The event object is not valid.", {
    fields: issues.map((i) => ({ field: ["object", ...i.path.map(String)].join("."), message: i.message })),
  });
}

async function creditCheckout(s: Services, eventId: string, checkout: CheckoutCompletedObject, meta: RequestMeta): Promise<WebhookOutcome> {
  const now = s.now();
  // Live deployments never credit a test-mode payment, whatever signed it.
  if (!s.config.CREEM_TEST_MODE && checkout.mode !== undefined && checkout.mode !== "prod" && checkout.mode !== "live") {
    return ignore(s.db, eventId, now, `test-mode-event:${checkout.mode}`);
  }
  if (checkout.status !== undefined && checkout.status !== "completed") return ignore(s.db, eventId, now, `checkout-status:${checkout.status}`);
  if (checkout.order && checkout.order.status !== "paid") return ignore(s.db, eventId, now, `order-status:${checkout.order.status}`);

  // Who and how much come from the pending payment we recorded at checkout;
  // the signed metadata is the fallback for a checkout made elsewhere (e.g.
  // replayed from Creem's dashboard after our row was lost).
  const pending = await paymentByCheckout(s.db, checkout.id);
  let userId = pending?.userId;
  let credits = pending?.credits;
  let productId = pending?.productId ?? null;
  if (!pending) {
    const metaUser = checkout.metadata?.["userId"];
    productId = typeof checkout.product === "string" ? checkout.product : (checkout.product?.id ?? checkout.order?.product ?? null);
    const pack = productId ? s.config.CREEM_PRODUCTS[productId] : undefined;
    if (typeof metaUser !== "string" || !pack) return ignore(s.db, eventId, now, "unknown-checkout");
    const user = await s.db.select({ id: users.id }).from(users).where(eq(users.id, metaUser)).get();
    if (!user) return ignore(s.db, eventId, now, "unknown-user");
    userId = user.id;
    credits = pack.credits;
  }
  if (userId === undefined || credits === undefined) return ignore(s.db, eventId, now, "unknown-checkout");

  const amount = checkout.order?.amount ?? null;
  const currency = checkout.order?.currency.toUpperCase() ?? null;
  const [, credit] = await s.db.batch([
    recordEvent(s.db, eventId, now),
    ledgerEntryStatement(s.db, { userId, delta: credits, reason: "purchase", reference: checkout.id }, now),
    s.db
      .insert(payments)
      .values({
        id: newId("pay"),
        userId,
        providerTxnId: checkout.id,
        productId,
        credits,
        amount,
        currency,
        status: "completed",
        createdAt: now,
        updatedAt: now,
      })
      // A late redelivery of the purchase must not undo a refund.
      .onConflictDoUpdate({
        target: payments.providerTxnId,
        set: { amount, currency, status: "completed", updatedAt: now },
        where: ne(payments.status, "refunded"),
      }),
  ]);
  if ((credit.meta.changes ?? 0) === 0) return { status: "duplicate" };
  await appendAudit(
    s.db,
    {
      userId,
      actor: { type: "system", id: "creem" },
      action: "billing.credited",
      target: { type: "checkout", id: checkout.id },
      detail: { credits, amount, currency, productId },
      meta,
    },
    now,
  );
  return { status: "credited", userId, credits };
}

async function reverseRefund(s: Services, eventId: string, refund: RefundCreatedObject, meta: RequestMeta): Promise<WebhookOutcome> {
  const now = s.now();
  if (refund.status !== undefined && refund.status !== "succeeded") return ignore(s.db, eventId, now, `refund-status:${refund.status}`);
  const checkoutId = refund.checkout?.id;
  if (!checkoutId) return ignore(s.db, eventId, now, "refund-without-checkout");
  const payment = await paymentByCheckout(s.db, checkoutId);
  if (!payment) return ignore(s.db, eventId, now, "unknown-checkout");
  const purchase = await ledgerEntry(s.db, "purchase", checkoutId);
  if (!purchase) {
    // Creem does not order deliveries: a refund can overtake its purchase.
    // Leave the event unrecorded and ask for a redelivery.
    throw new DomainError("conflict", "This refund's purchase has not been credited yet; deliver it again later.", { retryAfter: 60 });
  }
  const [, reversal] = await s.db.batch([
    recordEvent(s.db, eventId, now),
    purchaseReversalStatement(s.db, checkoutId, now),
    s.db
      .update(payments)
      .set({ status: "refunded", updatedAt: now })
      .where(and(eq(payments.providerTxnId, checkoutId), eq(payments.userId, purchase.userId))),
  ]);
  if ((reversal.meta.changes ?? 0) === 0) return { status: "duplicate" };
  await appendAudit(
    s.db,
    {
      userId: purchase.userId,
      actor: { type: "system", id: "creem" },
      action: "billing.reversed",
      target: { type: "checkout", id: checkoutId },
      detail: {
        credits: purchase.delta,
        refundAmount: refund.refund_amount ?? null,
        currency: refund.refund_currency?.toUpperCase() ?? null,
      },
      meta,
    },
    now,
  );
  return { status: "reversed", userId: purchase.userId, credits: purchase.delta };
}
