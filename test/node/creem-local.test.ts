/**
 * The local fake Creem (scripts/creem-local.mjs) against the Worker's own
 * Creem code: its checkout responses parse like Creem's, and the webhook its
 * Pay button sends verifies with the Worker's signature check and event
 * schemas, so `npm start` really credits a buyer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckoutCompletedObject, CreemEventEnvelope, RefundCreatedObject, verifyCreemSignature } from "../../worker/services/creem";
// @ts-expect-error: a plain ESM script without type declarations.
import { parsePrice, startCreemLocal } from "../../scripts/creem-local.mjs";
import { startReceiver, type Received, type Receiver } from "./receiver";

const SECRET = "whsec_local_test_secret";
const API_KEY = "creem_test_local_key";
const PRODUCTS = { prod_local_small: { credits: 10, name: "10 credits", price: "€4.99" } };

let receiver: Receiver;
let receiverStatus = 200;
const received: Received[] = [];
let fake: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  receiver = await startReceiver(received, () => receiverStatus, JSON.stringify({ received: true }));
  const apiUrl = receiver.url;
  fake = await startCreemLocal({ port: 0, apiUrl, webhookSecret: SECRET, apiKey: API_KEY, products: PRODUCTS, log: () => undefined });
});

afterAll(async () => {
  await fake.close();
  await receiver.close();
});

async function createCheckout(key = API_KEY, productId = "prod_local_small") {
  return fetch(`${fake.url}/v1/checkouts`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({
      product_id: productId,
      request_id: "req_0123",
      success_url: "http://127.0.0.1:5173/billing?checkout=success",
      metadata: { userId: "usr_abc" },
    }),
  });
}

describe("creem-local: happy", () => {
  it("creates a checkout like Creem's API and serves a clearly labelled test page", async () => {
    const res = await createCheckout();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; checkout_url: string; status: string; request_id: string };
    expect(body.id).toMatch(/^ch_[A-Za-z0-9]{22}$/);
    expect(body.status).toBe("pending");
    expect(body.request_id).toBe("req_0123");
    const pageRes = await fetch(body.checkout_url);
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await pageRes.text();
    expect(html).toContain("Test payment — no money moves");
    expect(html).toContain("€4.99");
    expect(html).not.toContain("<script");
  });

  it("Pay sends a signed checkout.completed the Worker accepts, then redirects to the success URL", async () => {
    received.length = 0;
    const { id } = (await (await createCheckout()).json()) as { id: string };
    const pay = await fetch(`${fake.url}/checkout/${id}/pay`, { method: "POST", redirect: "manual" });
    expect(pay.status).toBe(303);
    const to = new URL(pay.headers.get("location") ?? "");
    expect(to.origin + to.pathname).toBe("http://127.0.0.1:5173/billing");
    expect(to.searchParams.get("checkout")).toBe("success");
    expect(to.searchParams.get("checkout_id")).toBe(id);

    expect(received).toHaveLength(1);
    const hook = received[0];
    if (!hook) throw new Error("no webhook");
    const check = await verifyCreemSignature(SECRET, new Uint8Array(hook.raw), String(hook.headers["creem-signature"]));
    expect(check).toEqual({ ok: true });
    const event = CreemEventEnvelope.parse(JSON.parse(hook.raw.toString("utf8")));
    expect(event.eventType).toBe("checkout.completed");
    const checkout = CheckoutCompletedObject.parse(event.object);
    expect(checkout).toMatchObject({ id, status: "completed", metadata: { userId: "usr_abc" } });
    expect(checkout.order).toMatchObject({ amount: 499, currency: "EUR", status: "paid" });
  });

  it("refund control sends a signed refund.created for the same checkout", async () => {
    const { id } = (await (await createCheckout()).json()) as { id: string };
    await fetch(`${fake.url}/checkout/${id}/pay`, { method: "POST", redirect: "manual" });
    received.length = 0;
    const res = await fetch(`${fake.url}/checkout/${id}/refund`, { method: "POST" });
    expect(res.status).toBe(200);
    const hook = received[0];
    if (!hook) throw new Error("no webhook");
    expect(await verifyCreemSignature(SECRET, new Uint8Array(hook.raw), String(hook.headers["creem-signature"]))).toEqual({ ok: true });
    const event = CreemEventEnvelope.parse(JSON.parse(hook.raw.toString("utf8")));
    expect(event.eventType).toBe("refund.created");
    expect(RefundCreatedObject.parse(event.object).checkout?.id).toBe(id);
  });

  it("parses display prices into Creem's cents", () => {
    expect(parsePrice("€4.99")).toEqual({ amount: 499, currency: "EUR" });
    expect(parsePrice("$19.9")).toEqual({ amount: 1990, currency: "USD" });
    expect(parsePrice("12 GBP")).toEqual({ amount: 1200, currency: "GBP" });
  });
});

describe("creem-local: errors", () => {
  it("a wrong or missing x-api-key is refused like Creem does", async () => {
    expect((await createCheckout("wrong")).status).toBe(403);
    expect((await createCheckout("")).status).toBe(403);
  });

  it("an unknown product is a 400", async () => {
    expect((await createCheckout(API_KEY, "prod_nope")).status).toBe(400);
  });

  it("when the app refuses the webhook the page says so and the checkout stays unpaid", async () => {
    const { id } = (await (await createCheckout()).json()) as { id: string };
    receiverStatus = 401;
    try {
      const pay = await fetch(`${fake.url}/checkout/${id}/pay`, { method: "POST", redirect: "manual" });
      expect(pay.status).toBe(502);
      expect(await pay.text()).toContain("did not accept the payment webhook");
    } finally {
      receiverStatus = 200;
    }
    const state = (await (await fetch(`${fake.url}/v1/checkouts?checkout_id=${id}`, { headers: { "x-api-key": API_KEY } })).json()) as { status: string };
    expect(state.status).toBe("pending");
  });
});
