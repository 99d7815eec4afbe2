/**
 * Generation pipeline, error paths (issue 4 §1, §3, §5, §8): bad requests lose
 * nothing, provider failures retry or fail with a user-readable reason, and
 * every failure refunds exactly once.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { generations, objects, users } from "../../worker/db/schema";
import { handleQueue } from "../../worker/queue/consumer";
import type { JobMessage } from "../../worker/queue/messages";
import { appendLedger } from "../../worker/services/credits";
import { withdrawConsent } from "../../worker/services/consent";
import { GENERATION_DEADLINE_MS } from "../../worker/services/generation";
import { sweepGenerations } from "../../worker/services/generation-jobs";
import { deleteObjects, objectKey } from "../../worker/services/storage";
import { outputObjectId } from "../../worker/services/generation-pipeline";
import { balanceOf } from "../../worker/services/users";
import { api, expectProblem, json, services, signIn } from "../helpers";
import { network } from "../network";
import type { FakeFal } from "./fake-fal";
import {
  beforePipelineTests,
  consentingUser,
  createBody,
  createDriven,
  ctx,
  drivenServices,
  handlers,
  ledgerFor,
  parentsFor,
  poll,
  postGeneration,
  row,
  submit,
  testMeta,
  type Parents,
} from "./fixtures";

let fal: FakeFal;
let alice = "";
let parents: Parents;

// Plenty of credits for this file's many generations.
beforePipelineTests("alice", 500, "test-topup-alice", (setup) => ({ fal, userId: alice, parents } = setup));

async function generationCount(userId: string): Promise<number> {
  return (await services().db.select({ id: generations.id }).from(generations).where(eq(generations.userId, userId)).all()).length;
}

describe("error: bad requests lose nothing", () => {
  it("requires an Idempotency-Key (428)", async () => {
    const before = await balanceOf(services().db, alice);
    await expectProblem(await postGeneration("alice", createBody(parents), null), 428, "idempotency_key_required");
    expect(await balanceOf(services().db, alice)).toBe(before);
  });

  it("lists each invalid field (400)", async () => {
    const res = await postGeneration("alice", { ...createBody(parents, { images: 5, resemblance: 1.5, ageGroup: "teen" }), extra: true });
    const body = await expectProblem(res, 400, "validation_failed");
    const fields = (body["errors"] as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["images", "resemblance", "ageGroup"]));
    await expectProblem(await postGeneration("alice", createBody(parents, { motherPhotoId: "not-a-photo" })), 400, "validation_failed");
    await expectProblem(await postGeneration("alice", createBody({ motherPhotoId: parents.motherPhotoId, fatherPhotoId: parents.motherPhotoId })), 400, "validation_failed");
    await expectProblem(
      await api("/v1/generations", { method: "POST", user: "alice", headers: { "content-type": "application/json", "idempotency-key": "k-json" }, body: "{not json" }),
      400,
      "bad_request",
    );
  });

  it("answers 404 for someone else's photo or a missing one, and reserves nothing", async () => {
    const bob = await consentingUser("bob");
    const bobs = await parentsFor(bob);
    const before = await balanceOf(services().db, alice);
    const count = await generationCount(alice);
    await expectProblem(await postGeneration("alice", createBody({ motherPhotoId: bobs.motherPhotoId, fatherPhotoId: parents.fatherPhotoId })), 404, "not_found");
    await expectProblem(await postGeneration("alice", createBody({ motherPhotoId: `pho_${"0".repeat(32)}`, fatherPhotoId: parents.fatherPhotoId })), 404, "not_found");
    expect(await balanceOf(services().db, alice)).toBe(before);
    expect(await generationCount(alice)).toBe(count);
  });

  it("replays the same key and body (200, same id) and refuses the key with another body (422)", async () => {
    const key = crypto.randomUUID();
    const first = await postGeneration("alice", createBody(parents), key);
    expect(first.status).toBe(202);
    const { id } = await json<{ id: string }>(first);
    const again = await postGeneration("alice", createBody(parents), key);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await json<{ id: string }>(again)).id).toBe(id);
    await expectProblem(await postGeneration("alice", createBody(parents, { images: 2 }), key), 422, "idempotency_key_reused");
    expect(await ledgerFor(id)).toEqual(["reserve:-1"]);
  });

  it("answers 402 when the balance is short and leaves no row or reservation behind", async () => {
    const dave = await consentingUser("carol");
    const daves = await parentsFor(dave);
    const balance = await balanceOf(services().db, dave);
    await appendLedger(services().db, { userId: dave, delta: -balance, reason: "adjustment", reference: "test-drain-carol" }, Date.now());
    await expectProblem(await postGeneration("carol", createBody(daves)), 402, "insufficient_credits");
    expect(await generationCount(dave)).toBe(0);
    expect(await balanceOf(services().db, dave)).toBe(0);
  });

  it("needs current consent (403)", async () => {
    const bob = await signIn("bob");
    await withdrawConsent(services(), bob, { type: "user", id: bob }, testMeta);
    const bobs = await parentsFor(bob);
    await expectProblem(await postGeneration("bob", createBody(bobs)), 403, "consent_required");
  });
});

describe("error: provider failures retry or fail with a refund", () => {
  it("retries a submit that Fal answered 500 with backoff, then never resubmits once a request id is stored", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    fal.failSubmit = { status: 500, times: 1 };
    const msg = (attempts: number) =>
      createMessageBatch<JobMessage>("babypic-jobs", [{ id: `m${attempts}`, timestamp: new Date(), attempts, body: { kind: "generation.submit", generationId: gen.id } }]);

    const b1 = msg(1);
    const c1 = createExecutionContext();
    await handleQueue(b1, { ...s.env }, c1);
    const r1 = await getQueueResult(b1, c1);
    // Retried (the consumer asks for exponential backoff), not acked.
    expect(r1.retryMessages.map((m) => m.msgId)).toEqual(["m1"]);
    expect(r1.explicitAcks).toEqual([]);
    expect((await row(gen.id)).status).toBe("queued");
    expect(await ledgerFor(gen.id)).toEqual(["reserve:-1"]);

    const b2 = msg(2);
    const c2 = createExecutionContext();
    await handleQueue(b2, { ...s.env }, c2);
    expect((await getQueueResult(b2, c2)).explicitAcks).toEqual(["m2"]);
    const submitted = await row(gen.id);
    expect(submitted.status).toBe("submitted");

    // A redelivered submit message is acked without calling Fal again.
    const calls = fal.calls.submit;
    const b3 = msg(3);
    const c3 = createExecutionContext();
    await handleQueue(b3, { ...s.env }, c3);
    expect((await getQueueResult(b3, c3)).explicitAcks).toEqual(["m3"]);
    expect(fal.calls.submit).toBe(calls);
    expect((await row(gen.id)).providerRequestId).toBe(submitted.providerRequestId);
  });

  it("fails at once when Fal rejects the input (422), refunding once", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    fal.failSubmit = { status: 422, times: 1 };
    await submit(s, gen.id);
    const r = await row(gen.id);
    expect(r).toMatchObject({ status: "failed", errorCode: "input_rejected" });
    expect(r.errorMessage).toMatch(/refunded/);
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
  });

  it("keeps polling through Fal 5xx on status, recording nothing but the next poll", async () => {
    const { s, sent } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    await submit(s, gen.id);
    fal.failStatus = { status: 503, times: 1 };
    sent.length = 0;
    await poll(s, gen.id, 0);
    expect(sent).toEqual([{ body: { kind: "generation.poll", generationId: gen.id, attempt: 1 }, delaySeconds: 10 }]);
    expect((await row(gen.id)).status).toBe("submitted");
  });

  it("times out a job Fal never finishes: failed, refunded, canceled at Fal", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    await submit(s, gen.id);
    const late = drivenServices(() => Date.now() + GENERATION_DEADLINE_MS + 1000);
    await poll(late.s, gen.id, 9);
    const r = await row(gen.id);
    expect(r).toMatchObject({ status: "failed", errorCode: "timeout" });
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
    expect(fal.requests.get(r.providerRequestId ?? "")?.canceled).toBe(true);
  });

  it("sweeps anything past its deadline exactly once, and re-sends lost submits", async () => {
    const { s } = drivenServices();
    const stuckQueued = await createDriven(s, alice, parents);
    const stuckSubmitted = await createDriven(s, alice, parents);
    await submit(s, stuckSubmitted.id);
    const fresh = await createDriven(s, alice, parents);

    const later = drivenServices(() => Date.now() + GENERATION_DEADLINE_MS + 1000);
    // Make `fresh` young again so only the two overdue ones time out.
    await services().db.update(generations).set({ deadlineAt: Date.now() + 2 * GENERATION_DEADLINE_MS }).where(eq(generations.id, fresh.id));
    const first = await sweepGenerations(later.s);
    expect(first.timedOut).toBeGreaterThanOrEqual(2);
    await sweepGenerations(later.s);
    for (const id of [stuckQueued.id, stuckSubmitted.id]) {
      expect(await row(id)).toMatchObject({ status: "failed", errorCode: "timeout" });
      expect(await ledgerFor(id)).toEqual(["refund:1", "reserve:-1"]);
    }
    expect((await row(fresh.id)).status).toBe("queued");
    expect(later.sent).toContainEqual({ body: { kind: "generation.submit", generationId: fresh.id }, delaySeconds: undefined });
  });

  it.each([
    ["fail", "model_error"],
    ["nsfw", "safety_refusal"],
    ["reject-input", "input_rejected"],
  ] as const)("turns a Fal ERROR webhook (%s) into a failed generation (%s) with one refund", async (mode, code) => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    fal.mode = mode;
    await submit(s, gen.id);
    const r0 = await row(gen.id);
    fal.complete(r0.providerRequestId ?? "");
    expect((await fal.webhook(r0.providerRequestId ?? "")).status).toBe(200);
    expect((await fal.webhook(r0.providerRequestId ?? "")).status).toBe(200);
    const view = await json<{ status: string; error: { code: string; message: string } }>(await api(`/v1/generations/${gen.id}`, { user: "alice" }));
    expect(view.status).toBe("failed");
    expect(view.error.code).toBe(code);
    expect(view.error.message).toMatch(/credits were refunded/);
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
  });

  it("output moderation: a flagged result is refused (output_flagged), refunded, and nothing reaches R2 or D1", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents, { images: 2 });
    fal.mode = "nsfw-flag";
    await submit(s, gen.id);
    const rid = (await row(gen.id)).providerRequestId ?? "";
    fal.complete(rid);
    const before = fal.calls.moderate;
    await poll(s, gen.id, 0);
    expect(fal.calls.moderate).toBeGreaterThan(before);
    expect(await row(gen.id)).toMatchObject({ status: "failed", errorCode: "output_flagged" });
    expect(await services().db.select().from(objects).where(eq(objects.generationId, gen.id)).all()).toEqual([]);
    for (const i of [0, 1]) expect(await env.BUCKET.head(objectKey(alice, "output", await outputObjectId(gen.id, i)))).toBeNull();
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
    const view = await json<{ error: { code: string; message: string } }>(await api(`/v1/generations/${gen.id}`, { user: "alice" }));
    expect(view.error).toEqual({ code: "output_flagged", message: expect.stringMatching(/content check.*refunded/) });
    // Fal is told to forget the flagged result too.
    expect(fal.requests.get(rid)?.payloadsDeleted).toBe(true);
  });

  it("output moderation: a clean result is classified before it is stored, once per image", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents, { images: 2 });
    fal.nsfwProbability = 0.02;
    await submit(s, gen.id);
    fal.complete((await row(gen.id)).providerRequestId ?? "");
    const before = fal.calls.moderate;
    await poll(s, gen.id, 0);
    expect(await row(gen.id)).toMatchObject({ status: "completed" });
    expect(fal.calls.moderate - before).toBe(2);
  });

  it("rejects an output that is not an image: failed invalid_output, nothing stored, refunded", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents, { images: 2 });
    fal.mode = "invalid-output";
    await submit(s, gen.id);
    const rid = (await row(gen.id)).providerRequestId ?? "";
    fal.complete(rid);
    expect(await json(await fal.webhook(rid))).toEqual({ received: true, result: "failed" });
    expect(await row(gen.id)).toMatchObject({ status: "failed", errorCode: "invalid_output" });
    expect(await services().db.select().from(objects).where(eq(objects.generationId, gen.id)).all()).toEqual([]);
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
  });

  it("asks Fal to redeliver (503) when its CDN hiccups, then completes on the next delivery", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    await submit(s, gen.id);
    const rid = (await row(gen.id)).providerRequestId ?? "";
    fal.complete(rid);
    fal.failCdn = { status: 503, times: 1 };
    await expectProblem(await fal.webhook(rid), 503, "upstream_unavailable");
    expect(await row(gen.id)).toMatchObject({ status: "submitted", stage: "in_progress" });
    expect(await json(await fal.webhook(rid))).toEqual({ received: true, result: "completed" });
    expect(await ledgerFor(gen.id)).toEqual(["reserve:-1"]);
  });

  it("keeps no half-stored outputs when an interrupted job is then canceled", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents, { images: 2 });
    await submit(s, gen.id);
    const rid = (await row(gen.id)).providerRequestId ?? "";
    fal.complete(rid);
    // The first output is stored, then the CDN fails on the second: Fal is asked to retry.
    let served = 0;
    network.use(
      http.get("https://v3.fal.media/files/test/:name", ({ params }) => {
        served++;
        if (served > 1) return HttpResponse.json({ detail: "busy" }, { status: 503 });
        return new HttpResponse(fal.files.get(String(params["name"])), { headers: { "content-type": "image/jpeg" } });
      }),
    );
    await expectProblem(await fal.webhook(rid), 503, "upstream_unavailable");
    expect(await services().db.select().from(objects).where(eq(objects.generationId, gen.id)).all()).toHaveLength(1);
    expect((await api(`/v1/generations/${gen.id}/cancel`, { method: "POST", user: "alice" })).status).toBe(200);
    expect(await services().db.select().from(objects).where(eq(objects.generationId, gen.id)).all()).toEqual([]);
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
  });

  it("fails a job whose parent photo was deleted before submit", async () => {
    const { s } = drivenServices();
    const own = await parentsFor(alice);
    const gen = await createDriven(s, alice, own);
    await deleteObjects(services(), alice, [own.motherPhotoId]);
    await submit(s, gen.id);
    expect(await row(gen.id)).toMatchObject({ status: "failed", errorCode: "photo_missing" });
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
  });

  it("stops a queued job when consent is withdrawn before submit", async () => {
    const userId = await consentingUser("bob");
    const own = await parentsFor(userId);
    const { s } = drivenServices();
    const gen = await createDriven(s, userId, own);
    const calls = fal.calls.submit;
    await withdrawConsent(services(), userId, { type: "user", id: userId }, testMeta);
    await submit(s, gen.id);
    expect(await row(gen.id)).toMatchObject({ status: "failed", errorCode: "consent_withdrawn" });
    expect(fal.calls.submit).toBe(calls);
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
    await services().db.update(users).set({ consentVersion: null }).where(eq(users.id, userId));
  });

  it("fails and refunds a job whose message reached the dead-letter queue", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    await handlers["generation.submit"](s, { kind: "generation.submit", generationId: gen.id }, { attempts: 6, deadLetter: true });
    expect(await row(gen.id)).toMatchObject({ status: "failed", errorCode: "internal" });
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
    // A second dead letter for the same job changes nothing.
    await handlers["generation.poll"](s, { kind: "generation.poll", generationId: gen.id, attempt: 3 }, { ...ctx, deadLetter: true });
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
  });
});

describe("error: cancel", () => {
  it("cancels and refunds an unfinished job, tells Fal, and ignores its late webhook", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    await submit(s, gen.id);
    const rid = (await row(gen.id)).providerRequestId ?? "";

    await expectProblem(await api(`/v1/generations/${gen.id}/cancel`, { method: "POST", user: "bob" }), 404, "not_found");
    const res = await api(`/v1/generations/${gen.id}/cancel`, { method: "POST", user: "alice" });
    expect(res.status).toBe(200);
    expect((await json<{ status: string }>(res)).status).toBe("canceled");
    expect(fal.requests.get(rid)?.canceled).toBe(true);
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
    await expectProblem(await api(`/v1/generations/${gen.id}/cancel`, { method: "POST", user: "alice" }), 409, "conflict");

    // The cancel is in alice's activity log once, as hers, with the refund; bob's refused attempt is not.
    type Entry = { action: string; actor: { type: string; id: string | null }; target: { type: string; id: string } | null; summary: string };
    const audit = await json<{ items: Entry[] }>(await api("/v1/account/audit?limit=100", { user: "alice" }));
    const canceled = audit.items.filter((e) => e.action === "generation.canceled" && e.target?.id === gen.id);
    expect(canceled).toHaveLength(1);
    expect(canceled[0]?.actor).toMatchObject({ type: "user", id: alice });
    expect(canceled[0]?.target).toEqual({ type: "generation", id: gen.id });
    const bobs = await json<{ items: Entry[] }>(await api("/v1/account/audit?limit=100", { user: "bob" }));
    expect(bobs.items.some((e) => e.action === "generation.canceled")).toBe(false);

    fal.complete(rid);
    expect(await json(await fal.webhook(rid))).toEqual({ received: true, result: "noop" });
    expect(await row(gen.id)).toMatchObject({ status: "canceled" });
    expect(await services().db.select().from(objects).where(and(eq(objects.generationId, gen.id), eq(objects.kind, "output"))).all()).toEqual([]);
    expect(await ledgerFor(gen.id)).toEqual(["refund:1", "reserve:-1"]);
  });
});
