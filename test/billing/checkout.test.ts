/**
 * Packs and POST /v1/billing/checkout (issue 7): the Worker calls Creem's
 * checkout API with the right headers and body and returns the hosted URL;
 * the completed checkout then credits the buyer through the webhook.
 */
import { env } from "cloudflare:test";
import { http, HttpResponse } from "msw";
import { beforeAll, describe, expect, it } from "vitest";
import { api, expectProblem, json, signIn } from "../helpers";
import { network } from "../network";
import { auditActions, balance, checkoutCompleted, PACK_CREDITS, paymentFor, postWebhook, PRODUCT } from "./helpers";

const CREEM = "https://test-api.creem.io/v1/checkouts";

interface Captured {
  headers: Headers;
  body: unknown;
}

function fakeCreem(checkoutId: string, captured: Captured[] = []): Captured[] {
  network.use(
    http.post(CREEM, async ({ request }) => {
      captured.push({ headers: new Headers(request.headers), body: await request.json() });
      return HttpResponse.json({
        id: checkoutId,
        mode: "test",
        object: "checkout",
        status: "pending",
        product: PRODUCT,
        units: 1,
        checkout_url: `https://checkout.creem.io/${checkoutId}`,
      });
    }),
  );
  return captured;
}

async function checkout(user: string, productId: string = PRODUCT, headers: HeadersInit = {}): Promise<Response> {
  return api("/v1/billing/checkout", {
    method: "POST",
    user,
    headers: { "content-type": "application/json", ...Object.fromEntries(new Headers(headers)) },
    body: JSON.stringify({ productId }),
  });
}

let alice = "";

beforeAll(async () => {
  alice = await signIn("alice");
});

describe("packs: happy", () => {
  it("lists the configured packs without authentication", async () => {
    const res = await api("/v1/billing/packs");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ packs: [{ productId: PRODUCT, name: "10 credits", credits: PACK_CREDITS, price: "€4.99" }] });
  });
});

describe("checkout: happy", () => {
  it("calls Creem with x-api-key, product_id, our request_id, the user id in metadata and a success URL on the app; returns the hosted URL", async () => {
    const captured = fakeCreem("ch_test_happy");
    const res = await checkout("alice");
    expect(res.status).toBe(201);
    const body = await json<{ checkoutId: string; checkoutUrl: string; credits: number }>(res);
    expect(body).toEqual({ checkoutId: "ch_test_happy", checkoutUrl: "https://checkout.creem.io/ch_test_happy", credits: PACK_CREDITS });

    expect(captured).toHaveLength(1);
    const call = captured[0];
    expect(call?.headers.get("x-api-key")).toBe(env.CREEM_API_KEY);
    expect(call?.headers.get("content-type")).toContain("application/json");
    const sent = call?.body as { product_id: string; request_id: string; success_url: string; metadata: Record<string, string> };
    expect(sent.product_id).toBe(PRODUCT);
    expect(sent.request_id).toBe(res.headers.get("x-request-id"));
    expect(sent.metadata["userId"]).toBe(alice);
    expect(new URL(sent.success_url).origin).toBe(env.APP_ORIGIN);
    // Nothing identifying beyond our random internal id: no email, no identity-provider subject.
    expect(JSON.stringify(sent)).not.toMatch(/@|user_local_/);

    expect(await paymentFor("ch_test_happy")).toMatchObject({ userId: alice, status: "pending", credits: PACK_CREDITS, productId: PRODUCT });
    const audit = await auditActions(alice, "billing.checkout");
    expect(audit.at(-1)).toMatchObject({ targetType: "checkout", targetId: "ch_test_happy" });
  });

  it("end to end: checkout, then Creem's signed checkout.completed credits the buyer", async () => {
    fakeCreem("ch_test_e2e");
    const before = await balance("alice");
    const res = await checkout("alice");
    const { checkoutId } = await json<{ checkoutId: string }>(res);
    // Metadata deliberately wrong: the pending payment we recorded decides who is credited.
    const event = checkoutCompleted({ eventId: "evt_e2e", checkoutId, userId: "usr_ffffffffffffffffffffffffffffffff" });
    const hook = await postWebhook(JSON.stringify(event));
    expect(await json(hook)).toEqual({ received: true, outcome: "credited" });
    expect(await balance("alice")).toBe(before + PACK_CREDITS);
  });
});

describe("checkout: errors", () => {
  it("an unknown product id is a 400 naming productId, and Creem is not called", async () => {
    const captured = fakeCreem("ch_never");
    const problem = await expectProblem(await checkout("alice", "prod_not_a_pack"), 400, "validation_failed");
    expect(JSON.stringify(problem["errors"])).toContain("productId");
    expect(captured).toHaveLength(0);
  });

  it("a malformed body is a 400", async () => {
    const res = await api("/v1/billing/checkout", { method: "POST", user: "alice", headers: { "content-type": "application/json" }, body: "{" });
    expect(res.status).toBe(400);
    const extra = await api("/v1/billing/checkout", {
      method: "POST",
      user: "alice",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId: PRODUCT, price: 0 }),
    });
    await expectProblem(extra, 400, "validation_failed");
  });

  it("Creem failing (5xx, bad JSON, unreachable) is a 503 problem with Retry-After and no upstream details", async () => {
    network.use(http.post(CREEM, () => HttpResponse.json({ message: "internal secret detail" }, { status: 500 })));
    const res = await checkout("alice");
    const problem = await expectProblem(res, 503, "upstream_unavailable");
    expect(res.headers.get("retry-after")).toBe("30");
    expect(JSON.stringify(problem)).not.toContain("secret detail");

    network.use(http.post(CREEM, () => HttpResponse.text("not json")));
    await expectProblem(await checkout("alice"), 503, "upstream_unavailable");

    network.use(http.post(CREEM, () => HttpResponse.json({ id: "ch_x", checkout_url: "javascript:alert(1)" })));
    await expectProblem(await checkout("alice"), 503, "upstream_unavailable");

    network.use(http.post(CREEM, () => HttpResponse.error()));
    await expectProblem(await checkout("alice"), 503, "upstream_unavailable");
  });

  it("unauthenticated: 401", async () => {
    const res = await api("/v1/billing/checkout", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ productId: PRODUCT }) });
    await expectProblem(res, 401, "unauthorized");
  });
});
