/**
 * Fal payload deletion as it works in production (issue 17 §8): only the
 * admin-scoped key may call it, and a deletion that fails is queued again
 * with backoff, bounded, and shown to the operator; never only logged.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { providerFor } from "../../worker/providers";
import { deleteProviderPayloads, providerCleanupHandlers } from "../../worker/services/provider-cleanup";
import { listIssues, MAX_TASK_ATTEMPTS } from "../../worker/services/ops-issues";
import { api, json, services } from "../helpers";
import { FakeFal, MODEL_KEY } from "./fake-fal";
import { createDriven, drivenServices, parentsFor, consentingUser, poll, row, submit } from "./fixtures";
import { appendLedger } from "../../worker/services/credits";

let fal: FakeFal;
let alice = "";

beforeAll(async () => {
  alice = await consentingUser("alice");
  await appendLedger(services().db, { userId: alice, delta: 50, reason: "adjustment", reference: "payload-cleanup" }, Date.now());
});

beforeEach(async () => {
  fal = (await new FakeFal().init()).use();
});

async function completedRequest(failDeletes: number): Promise<{ rid: string; sent: ReturnType<typeof drivenServices>["sent"]; s: ReturnType<typeof drivenServices>["s"] }> {
  const { s, sent } = drivenServices();
  // Fresh parents each time: a finished generation's parents expire at once (keepPhotosDays 0).
  const gen = await createDriven(s, alice, await parentsFor(alice));
  await submit(s, gen.id);
  const rid = (await row(gen.id)).providerRequestId ?? "";
  fal.complete(rid);
  fal.failDelete = { status: 503, times: failDeletes };
  await poll(s, gen.id, 0);
  expect((await row(gen.id)).status).toBe("completed");
  return { rid, sent, s };
}

describe("payload deletion: happy", () => {
  it("after a completed generation, payloads are deleted with the admin key and nothing is recorded", async () => {
    const { rid, sent } = await completedRequest(0);
    expect(fal.requests.get(rid)?.payloadsDeleted).toBe(true);
    expect(sent.filter((m) => m.body.kind === "fal.payloads_delete")).toEqual([]);
    expect((await listIssues(services(), { statuses: ["retrying", "failed", "resolved"] })).some((i) => i.ref === rid)).toBe(false);
  });
});

describe("payload deletion: errors", () => {
  it("a failed deletion is queued again with backoff, shown as retrying, and resolved by the retry", async () => {
    const { rid, sent, s } = await completedRequest(1);
    expect(fal.requests.get(rid)?.payloadsDeleted).toBe(false);
    const retry = sent.find((m) => m.body.kind === "fal.payloads_delete");
    expect(retry).toEqual({ body: { kind: "fal.payloads_delete", requestId: rid, attempt: 2 }, delaySeconds: 30 });

    const res = await api("/v1/support/operations", { user: "carol" });
    const { items } = await json<{ items: { kind: string; ref: string; status: string; attempts: number; lastError: string }[] }>(res);
    expect(items.find((i) => i.ref === rid)).toMatchObject({ kind: "fal.payloads_delete", status: "retrying", attempts: 1, lastError: expect.stringMatching(/503/) });

    if (retry?.body.kind !== "fal.payloads_delete") throw new Error("no retry");
    await providerCleanupHandlers()["fal.payloads_delete"](s, retry.body, { attempts: 1, deadLetter: false });
    expect(fal.requests.get(rid)?.payloadsDeleted).toBe(true);
    expect((await listIssues(services(), { statuses: ["resolved"] })).find((i) => i.ref === rid)?.status).toBe("resolved");
  });

  it("attempts are bounded: the last failure is recorded as failed and nothing more is queued", async () => {
    const { s, sent } = drivenServices();
    const { requestId } = await providerFor(s).submit({
      generationId: "gen_bounded",
      mother: { contentType: "image/jpeg", bytes: new Uint8Array([0xff, 0xd8, 0xff]) },
      father: { contentType: "image/jpeg", bytes: new Uint8Array([0xff, 0xd8, 0xff]) },
      options: { gender: "girl", ageGroup: "newborn", resemblance: 0.5, images: 1 },
    });
    fal.failDelete = { status: 500, times: 99 };
    expect(await deleteProviderPayloads(s, providerFor(s), requestId, MAX_TASK_ATTEMPTS)).toBe("failed");
    expect(sent).toEqual([]);
    expect((await listIssues(services(), { statuses: ["failed"] })).find((i) => i.ref === requestId)).toMatchObject({ attempts: MAX_TASK_ATTEMPTS });
  });

  it("a key Fal refuses (the model key instead of an admin key: 403) is failed at once for the operator, not retried", async () => {
    const { s: base, sent } = drivenServices();
    const s = { ...base, config: { ...base.config, FAL_ADMIN_KEY: MODEL_KEY } };
    const { requestId } = await providerFor(s).submit({
      generationId: "gen_wrongkey",
      mother: { contentType: "image/jpeg", bytes: new Uint8Array([0xff, 0xd8, 0xff]) },
      father: { contentType: "image/jpeg", bytes: new Uint8Array([0xff, 0xd8, 0xff]) },
      options: { gender: "boy", ageGroup: "child", resemblance: 0.5, images: 1 },
    });
    expect(await deleteProviderPayloads(s, providerFor(s), requestId)).toBe("failed");
    expect(fal.calls.deleteRefused).toBe(1);
    expect(sent).toEqual([]);
    expect((await listIssues(services(), { statuses: ["failed"] })).find((i) => i.ref === requestId)).toMatchObject({ lastError: expect.stringMatching(/403/) });
  });

  it("a deletion message on the dead-letter queue is recorded as failed", async () => {
    await providerCleanupHandlers()["fal.payloads_delete"](services(), { kind: "fal.payloads_delete", requestId: "req-dlq", attempt: 3 }, { attempts: 4, deadLetter: true });
    expect((await listIssues(services(), { statuses: ["failed"] })).find((i) => i.ref === "req-dlq")).toMatchObject({ lastError: "dead-lettered" });
  });
});
