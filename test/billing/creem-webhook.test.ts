/**
 * POST /v1/webhooks/creem (issue 7, docs/architecture.md): signature over the raw
 * body, idempotency on the event id, credit on checkout.completed, reversal
 * on refund.created, and nothing but ids, amount, currency and status kept.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { securityLog, webhookEvents } from "../../worker/db/schema";
import { expectProblem, json, services, signIn, signedInUsers } from "../helpers";
import {
  auditActions,
  balance,
  checkoutCompleted,
  FREE_CREDITS,
  hmacHex,
  insertPendingPayment,
  ledgerFor,
  PACK_CREDITS,
  paymentFor,
  postWebhook,
  refundCreated,
  webhookSecret,
} from "./helpers";

const signedIn = signedInUsers("alice", "bob");


async function signatureFailures(): Promise<string[]> {
  const rows = await services().db.select().from(securityLog).where(eq(securityLog.kind, "signature_failed")).all();
  return rows.map((r) => r.detail ?? "");
}

describe("creem webhook: happy", () => {
  it("checkout.completed credits the pack once, records the payment and audits billing.credited", async () => {
    const before = await balance("alice");
    const body = JSON.stringify(checkoutCompleted({ eventId: "evt_happy_1", checkoutId: "ch_happy_1", userId: signedIn.alice }));
    const res = await postWebhook(body);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ received: true, outcome: "credited" });
    expect(await balance("alice")).toBe(before + PACK_CREDITS);

    const purchases = await ledgerFor(signedIn.alice, "purchase");
    expect(purchases).toHaveLength(1);
    expect(purchases[0]).toMatchObject({ delta: PACK_CREDITS, reference: "ch_happy_1" });

    const payment = await paymentFor("ch_happy_1");
    expect(payment).toMatchObject({ userId: signedIn.alice, amount: 499, currency: "EUR", status: "completed", credits: PACK_CREDITS });
    // Only ids, amount, currency and status: the customer's email is not stored anywhere in the row.
    expect(JSON.stringify(payment)).not.toContain("someone@example.com");

    const audit = await auditActions(signedIn.alice, "billing.credited");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: "system", targetType: "checkout", targetId: "ch_happy_1" });
    expect(JSON.parse(audit[0]?.detail ?? "{}")).toMatchObject({ credits: PACK_CREDITS, amount: 499, currency: "EUR" });
  });

  it("a pending checkout made through our API is credited to its owner even without metadata", async () => {
    await insertPendingPayment("pay_pending_bob", signedIn.bob, "ch_pending_bob");
    const event = checkoutCompleted({ eventId: "evt_pending_bob", checkoutId: "ch_pending_bob", userId: "usr_not_trusted_here" });
    const res = await postWebhook(JSON.stringify(event));
    expect(await json(res)).toEqual({ received: true, outcome: "credited" });
    expect(await ledgerFor(signedIn.bob, "purchase")).toHaveLength(1);
    expect(await paymentFor("ch_pending_bob")).toMatchObject({ status: "completed", amount: 499, currency: "EUR" });
  });

  it("unhandled event types are acknowledged and recorded, not retried", async () => {
    const body = JSON.stringify({ id: "evt_sub_1", eventType: "subscription.active", created_at: 1, object: { id: "sub_1" } });
    const res = await postWebhook(body);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ received: true, outcome: "ignored" });
    const again = await postWebhook(body);
    expect(await json(again)).toEqual({ received: true, outcome: "duplicate" });
  });
});

describe("creem webhook: idempotency", () => {
  it("a replayed event id credits once", async () => {
    const before = await balance("alice");
    const body = JSON.stringify(checkoutCompleted({ eventId: "evt_replay", checkoutId: "ch_replay", userId: signedIn.alice }));
    const first = await postWebhook(body);
    const second = await postWebhook(body);
    const third = await postWebhook(body);
    expect(await json(first)).toEqual({ received: true, outcome: "credited" });
    expect(await json(second)).toEqual({ received: true, outcome: "duplicate" });
    expect(await json(third)).toEqual({ received: true, outcome: "duplicate" });
    expect(await balance("alice")).toBe(before + PACK_CREDITS);
    const rows = await services().db.select().from(webhookEvents).where(eq(webhookEvents.id, "creem:evt_replay")).all();
    expect(rows).toHaveLength(1);
  });

  it("the same checkout under a new event id (a resend) still credits once", async () => {
    const before = await balance("alice");
    await postWebhook(JSON.stringify(checkoutCompleted({ eventId: "evt_resend_a", checkoutId: "ch_resend", userId: signedIn.alice })));
    const res = await postWebhook(JSON.stringify(checkoutCompleted({ eventId: "evt_resend_b", checkoutId: "ch_resend", userId: signedIn.alice })));
    expect(await json(res)).toEqual({ received: true, outcome: "duplicate" });
    expect(await balance("alice")).toBe(before + PACK_CREDITS);
  });

  it("concurrent deliveries of one event credit once", async () => {
    const before = await balance("alice");
    const body = JSON.stringify(checkoutCompleted({ eventId: "evt_race", checkoutId: "ch_race", userId: signedIn.alice }));
    const results = await Promise.all([postWebhook(body), postWebhook(body), postWebhook(body)]);
    const outcomes = await Promise.all(results.map((r) => json<{ outcome: string }>(r)));
    expect(outcomes.filter((o) => o.outcome === "credited")).toHaveLength(1);
    expect(await balance("alice")).toBe(before + PACK_CREDITS);
  });
});

describe("creem webhook: refunds", () => {
  it("refund.created reverses the purchase once, marks the payment refunded and audits billing.reversed", async () => {
    await postWebhook(JSON.stringify(checkoutCompleted({ eventId: "evt_buy_r", checkoutId: "ch_refund", userId: signedIn.alice })));
    const afterPurchase = await balance("alice");

    const refund = JSON.stringify(refundCreated({ eventId: "evt_refund_1", checkoutId: "ch_refund" }));
    const res = await postWebhook(refund);
    expect(await json(res)).toEqual({ received: true, outcome: "reversed" });
    expect(await balance("alice")).toBe(afterPurchase - PACK_CREDITS);

    // The same refund again, and a second refund event for the same checkout: no further change.
    expect(await json(await postWebhook(refund))).toEqual({ received: true, outcome: "duplicate" });
    const second = JSON.stringify(refundCreated({ eventId: "evt_refund_2", checkoutId: "ch_refund" }));
    expect(await json(await postWebhook(second))).toEqual({ received: true, outcome: "duplicate" });
    expect(await balance("alice")).toBe(afterPurchase - PACK_CREDITS);

    const reversals = (await ledgerFor(signedIn.alice, "purchase_reversal")).filter((r) => r.reference === "ch_refund");
    expect(reversals).toHaveLength(1);
    expect(reversals[0]?.delta).toBe(-PACK_CREDITS);
    expect(await paymentFor("ch_refund")).toMatchObject({ status: "refunded" });
    const audit = (await auditActions(signedIn.alice, "billing.reversed")).filter((a) => a.targetId === "ch_refund");
    expect(audit).toHaveLength(1);
  });

  it("a late redelivery of the purchase after its refund neither re-credits nor un-refunds", async () => {
    const buy = JSON.stringify(checkoutCompleted({ eventId: "evt_buy_late", checkoutId: "ch_late", userId: signedIn.alice }));
    await postWebhook(buy);
    await postWebhook(JSON.stringify(refundCreated({ eventId: "evt_refund_late", checkoutId: "ch_late" })));
    const afterRefund = await balance("alice");
    const resend = JSON.stringify(checkoutCompleted({ eventId: "evt_buy_late_resend", checkoutId: "ch_late", userId: signedIn.alice }));
    expect(await json(await postWebhook(resend))).toEqual({ received: true, outcome: "duplicate" });
    expect(await balance("alice")).toBe(afterRefund);
    expect(await paymentFor("ch_late")).toMatchObject({ status: "refunded" });
  });

  it("a refund that overtakes its purchase gets 409 and is applied on redelivery", async () => {
    await insertPendingPayment("pay_early", signedIn.alice, "ch_early");
    const refund = JSON.stringify(refundCreated({ eventId: "evt_refund_early", checkoutId: "ch_early" }));
    await expectProblem(await postWebhook(refund), 409, "conflict");
    const before = await balance("alice");
    await postWebhook(JSON.stringify(checkoutCompleted({ eventId: "evt_buy_early", checkoutId: "ch_early", userId: signedIn.alice })));
    expect(await json(await postWebhook(refund))).toEqual({ received: true, outcome: "reversed" });
    expect(await balance("alice")).toBe(before);
  });

  it("a refund for a checkout we never saw is acknowledged and changes nothing", async () => {
    const before = await balance("alice");
    const res = await postWebhook(JSON.stringify(refundCreated({ eventId: "evt_refund_unknown", checkoutId: "ch_unknown" })));
    expect(await json(res)).toEqual({ received: true, outcome: "ignored" });
    expect(await balance("alice")).toBe(before);
  });
});

describe("creem webhook: signature attacks", () => {
  const body = () => JSON.stringify(checkoutCompleted({ eventId: `evt_attack_${crypto.randomUUID()}`, checkoutId: `ch_attack_${crypto.randomUUID()}`, userId: signedIn.alice }));

  async function rejected(res: Response, reason: string): Promise<void> {
    const problem = await expectProblem(res, 401, "invalid_signature");
    expect(JSON.stringify(problem)).not.toMatch(/[0-9a-f]{64}/);
    expect((await signatureFailures()).some((d) => d.includes(reason))).toBe(true);
  }

  it("missing signature", async () => {
    const before = await balance("alice");
    await rejected(await postWebhook(body(), { signature: null }), "creem:missing-signature");
    expect(await balance("alice")).toBe(before);
  });

  it("wrong signature (well-formed hex, wrong value)", async () => {
    const before = await balance("alice");
    await rejected(await postWebhook(body(), { signature: "0".repeat(64) }), "creem:signature-mismatch");
    expect(await balance("alice")).toBe(before);
  });

  it("malformed signature", async () => {
    await rejected(await postWebhook(body(), { signature: "sha256=not-hex" }), "creem:malformed-signature");
  });

  it("signed with another secret", async () => {
    const before = await balance("alice");
    await rejected(await postWebhook(body(), { secret: `${webhookSecret()}x` }), "creem:signature-mismatch");
    expect(await balance("alice")).toBe(before);
  });

  it("body altered after signing (credits changed to another user)", async () => {
    const original = body();
    const signature = await hmacHex(webhookSecret(), original);
    const tampered = original.replace(signedIn.alice, signedIn.bob);
    expect(tampered).not.toBe(original);
    const bobBefore = await balance("bob");
    await rejected(await postWebhook(tampered, { signature }), "creem:signature-mismatch");
    expect(await balance("bob")).toBe(bobBefore);
  });

  it("whitespace-only change to the body breaks the signature (raw bytes are verified, not re-serialised JSON)", async () => {
    const original = body();
    const signature = await hmacHex(webhookSecret(), original);
    await rejected(await postWebhook(`${original} `, { signature }), "creem:signature-mismatch");
  });

  it("the security log holds no signature", async () => {
    const signature = await hmacHex(`${webhookSecret()}y`, body());
    await postWebhook(body(), { signature });
    const rows = await services().db.select().from(securityLog).where(eq(securityLog.kind, "signature_failed")).all();
    expect(JSON.stringify(rows)).not.toContain(signature);
  });
});

describe("creem webhook: bad input", () => {
  it("signed but not JSON: 400 bad_request", async () => {
    await expectProblem(await postWebhook("not json"), 400, "bad_request");
  });

  it("signed JSON that is not an event: 400 validation_failed listing fields", async () => {
    const problem = await expectProblem(await postWebhook(JSON.stringify({ hello: "world" })), 400, "validation_failed");
    const fields = (problem["errors"] as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["id", "eventType"]));
  });

  it("checkout.completed with a malformed object: 400, nothing recorded, so a fixed redelivery still applies", async () => {
    const bad = JSON.stringify({ id: "evt_bad_obj", eventType: "checkout.completed", object: { id: 42 } });
    await expectProblem(await postWebhook(bad), 400, "validation_failed");
    const rows = await services().db.select().from(webhookEvents).where(eq(webhookEvents.id, "creem:evt_bad_obj")).all();
    expect(rows).toHaveLength(0);
  });

  it("unpaid orders and unknown users or products are acknowledged without credit", async () => {
    const before = await balance("alice");
    const unpaid = checkoutCompleted({ eventId: "evt_unpaid", checkoutId: "ch_unpaid", userId: signedIn.alice, status: "pending" });
    expect(await json(await postWebhook(JSON.stringify(unpaid)))).toEqual({ received: true, outcome: "ignored" });
    const ghost = checkoutCompleted({ eventId: "evt_ghost", checkoutId: "ch_ghost", userId: "usr_00000000000000000000000000000000" });
    expect(await json(await postWebhook(JSON.stringify(ghost)))).toEqual({ received: true, outcome: "ignored" });
    const otherProduct = checkoutCompleted({ eventId: "evt_other_prod", checkoutId: "ch_other_prod", userId: signedIn.alice, productId: "prod_not_ours" });
    expect(await json(await postWebhook(JSON.stringify(otherProduct)))).toEqual({ received: true, outcome: "ignored" });
    expect(await balance("alice")).toBe(before);
  });

  it("a body over 64 KiB is refused with 413 before verification", async () => {
    const huge = JSON.stringify({ id: "evt_huge", eventType: "x", object: { pad: "a".repeat(70 * 1024) } });
    await expectProblem(await postWebhook(huge), 413, "payload_too_large");
  });

  it("a user's balance starts at the free grant (sanity for the numbers above)", async () => {
    const carol = await signIn("carol");
    expect(await balance("carol")).toBe(FREE_CREDITS);
    const rows = await ledgerFor(carol, "purchase");
    expect(rows).toHaveLength(0);
    const { ledger } = await import("../../worker/db/schema");
    const all = await services().db.select().from(ledger).where(and(eq(ledger.userId, carol))).all();
    expect(all.map((r) => r.reason)).toEqual(FREE_CREDITS > 0 ? ["free_grant"] : []);
  });
});

describe("creem webhook: test mode", () => {
  it("a live deployment (CREEM_TEST_MODE=false) never credits a test-mode checkout", async () => {
    const { createApp } = await import("../../worker/app");
    const liveEnv = { ...env, CREEM_TEST_MODE: "false" };
    const before = await balance("alice");
    const event = checkoutCompleted({ eventId: "evt_testmode", checkoutId: "ch_testmode", userId: signedIn.alice });
    const body = JSON.stringify({ ...event, object: { ...event.object, mode: "test" } });
    const res = await createApp().request(
      "http://api.test/v1/webhooks/creem",
      { method: "POST", headers: { "content-type": "application/json", "creem-signature": await hmacHex(webhookSecret(), body) }, body },
      liveEnv,
    );
    expect(await json(res)).toEqual({ received: true, outcome: "ignored" });
    expect(await balance("alice")).toBe(before);
    const prod = JSON.stringify({ ...event, id: "evt_prodmode", object: { ...event.object, id: "ch_prodmode", mode: "prod" } });
    const ok = await createApp().request(
      "http://api.test/v1/webhooks/creem",
      { method: "POST", headers: { "content-type": "application/json", "creem-signature": await hmacHex(webhookSecret(), prod) }, body: prod },
      liveEnv,
    );
    expect(await json(ok)).toEqual({ received: true, outcome: "credited" });
  });
});
