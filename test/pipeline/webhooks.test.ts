/**
 * Fal webhook security and delivery semantics (issue 4 §4, §8): only a fresh
 * Ed25519 signature from Fal's JWKS over the exact body is accepted; anything
 * else is a 401 that changes nothing and is logged without the signature.
 * Duplicates, early arrivals and lost deliveries all end in one completion.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, generations, objects, securityLog } from "../../worker/db/schema";
import type { GenerationRow } from "../../worker/services/generation";
import { expectProblem, json, services } from "../helpers";
import { randomSigningKey, type FakeFal } from "./fake-fal";
import { beforePipelineTests, createDriven, drivenServices, ledgerFor, poll, row, submit, type Parents } from "./fixtures";

let fal: FakeFal;
let alice = "";
let parents: Parents;

beforePipelineTests("alice", 100, "test-topup-webhooks", (setup) => ({ fal, userId: alice, parents } = setup));

/** A submitted generation whose Fal request has finished, ready for its webhook. */
async function finished(): Promise<{ gen: GenerationRow; rid: string }> {
  const { s } = drivenServices();
  const gen = await createDriven(s, alice, parents);
  await submit(s, gen.id);
  const rid = (await row(gen.id)).providerRequestId ?? "";
  fal.complete(rid);
  return { gen, rid };
}

async function outputsOf(id: string) {
  return services().db.select().from(objects).where(eq(objects.generationId, id)).all();
}

async function securityEvents() {
  return services().db.select().from(securityLog).where(eq(securityLog.kind, "signature_failed")).all();
}

describe("security: webhook signatures", () => {
  const refusals: [string, (rid: string) => Promise<Response>, string][] = [
    ["unsigned", (rid) => fal.webhook(rid, { omit: "x-fal-webhook-signature" }), "missing-headers"],
    ["without a timestamp", (rid) => fal.webhook(rid, { omit: "x-fal-webhook-timestamp" }), "missing-headers"],
    ["stale (301 s old)", (rid) => fal.webhook(rid, { timestamp: Math.floor(Date.now() / 1000) - 301 }), "stale-timestamp"],
    ["from the future (301 s ahead)", (rid) => fal.webhook(rid, { timestamp: Math.floor(Date.now() / 1000) + 301 }), "stale-timestamp"],
    ["signed with a key Fal never published", async (rid) => fal.webhook(rid, { signWith: await randomSigningKey() }), "bad-signature"],
    ["with its body altered after signing", (rid) => fal.webhook(rid, { tamper: (b) => b.replace('"status":"OK"', '"status":"OK" ') }), "bad-signature"],
    ["with a forged signature", (rid) => forged(rid), "bad-signature"],
  ];

  /** A well-formed but random signature. */
  async function forged(rid: string): Promise<Response> {
    const { SELF } = await import("cloudflare:test");
    const body = JSON.stringify(fal.resultOf(fal.requests.get(rid) ?? fal.last).webhook);
    const sig = Array.from(crypto.getRandomValues(new Uint8Array(64)), (b) => b.toString(16).padStart(2, "0")).join("");
    return SELF.fetch("http://api.test/v1/webhooks/fal", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-fal-webhook-request-id": rid,
        "x-fal-webhook-user-id": "fal-user-123",
        "x-fal-webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "x-fal-webhook-signature": sig,
      },
      body,
    });
  }

  it.each(refusals)("refuses a webhook %s with 401, changes nothing and logs the reason", async (_name, send, reason) => {
    const { gen, rid } = await finished();
    const before = (await securityEvents()).length;
    const res = await send(rid);
    await expectProblem(res, 401, "invalid_signature");
    expect(await row(gen.id)).toMatchObject({ status: "submitted" });
    expect(await outputsOf(gen.id)).toEqual([]);
    expect(await ledgerFor(gen.id)).toEqual(["reserve:-1"]);
    const events = await securityEvents();
    expect(events.length).toBe(before + 1);
    const last = events.at(-1);
    expect(JSON.parse(last?.detail ?? "{}")).toMatchObject({ reason: `fal-webhook:${reason}`, path: "/v1/webhooks/fal" });
    // The log never holds the signature or the body.
    const dump = JSON.stringify(events);
    expect(dump).not.toMatch(/[0-9a-f]{128}/);
    expect(dump).not.toContain(rid);
  });

  it("refuses a signed body that names another request than the signed header (400)", async () => {
    const { gen, rid } = await finished();
    const other = JSON.stringify({ ...fal.resultOf(fal.requests.get(rid) ?? fal.last).webhook, request_id: "another-request" });
    await expectProblem(await fal.webhook(rid, { body: other }), 400, "bad_request");
    expect((await row(gen.id)).status).toBe("submitted");
  });

  it("accepts a correctly signed webhook and caches Fal's keys", async () => {
    const a = await finished();
    const b = await finished();
    expect((await fal.webhook(a.rid)).status).toBe(200);
    const jwksCalls = fal.calls.jwks;
    expect((await fal.webhook(b.rid)).status).toBe(200);
    expect(fal.calls.jwks).toBe(jwksCalls);
    expect((await row(a.gen.id)).status).toBe("completed");
    expect((await row(b.gen.id)).status).toBe("completed");
  });
});

describe("security: webhook delivery semantics", () => {
  it("treats a duplicate webhook as a no-op: one set of outputs, one completion, no refund", async () => {
    const { gen, rid } = await finished();
    expect(await json(await fal.webhook(rid))).toEqual({ received: true, result: "completed" });
    expect(await json(await fal.webhook(rid))).toEqual({ received: true, result: "noop" });
    expect(await outputsOf(gen.id)).toHaveLength(1);
    const completions = (await services().db.select().from(auditLog).where(eq(auditLog.targetId, gen.id)).all()).filter((a) => a.action === "generation.completed");
    expect(completions).toHaveLength(1);
    expect(await ledgerFor(gen.id)).toEqual(["reserve:-1"]);
  });

  it("stores one set of outputs when duplicate webhooks race", async () => {
    const { gen, rid } = await finished();
    const results = await Promise.all([fal.webhook(rid), fal.webhook(rid), fal.webhook(rid)]);
    const bodies = await Promise.all(results.map((r) => json<{ result: string }>(r)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(bodies.filter((b) => b.result === "completed")).toHaveLength(1);
    expect((await row(gen.id)).status).toBe("completed");
    expect(await outputsOf(gen.id)).toHaveLength(1);
  });

  it("asks Fal to retry (409) a webhook that arrives before the submit is recorded, then completes", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    // Fal answered the submit and finished at once, but we have not stored its request id yet.
    const rid = crypto.randomUUID();
    fal.requests.set(rid, { id: rid, input: { num_images: 1 }, headers: {}, webhookUrl: null, status: "IN_QUEUE", mode: "ok", outputs: [], canceled: false, payloadsDeleted: false });
    fal.complete(rid);
    const early = await fal.webhook(rid);
    await expectProblem(early, 409, "conflict");
    expect(early.headers.get("retry-after")).toBe("10");
    expect((await row(gen.id)).status).toBe("queued");

    // Our bookkeeping catches up (as submit would record it); Fal's redelivery now completes it.
    await services().db.update(generations).set({ providerRequestId: rid, status: "submitted", stage: "in_queue", submittedAt: Date.now() }).where(eq(generations.id, gen.id));
    expect(await json(await fal.webhook(rid))).toEqual({ received: true, result: "completed" });
    expect(await outputsOf(gen.id)).toHaveLength(1);
  });

  it("recovers a lost webhook by polling", async () => {
    const { s, sent } = drivenServices();
    const gen = await createDriven(s, alice, parents, { images: 3 });
    await submit(s, gen.id);
    // The submit scheduled the fallback poll.
    expect(sent.at(-1)).toEqual({ body: { kind: "generation.poll", generationId: gen.id, attempt: 0 }, delaySeconds: 5 });
    await poll(s, gen.id, 0);
    expect((await row(gen.id)).status).toBe("submitted");
    fal.complete((await row(gen.id)).providerRequestId ?? "");
    // No webhook ever comes; the next poll sees COMPLETED and finalizes.
    await poll(s, gen.id, 1);
    const done = await row(gen.id);
    expect(done.status).toBe("completed");
    expect(await outputsOf(gen.id)).toHaveLength(3);
    expect(fal.requests.get(done.providerRequestId ?? "")?.payloadsDeleted).toBe(true);
    // A late webhook after that changes nothing.
    expect(await json(await fal.webhook(done.providerRequestId ?? ""))).toEqual({ received: true, result: "noop" });
  });
});
