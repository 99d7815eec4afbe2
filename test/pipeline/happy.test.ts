/**
 * Generation pipeline, happy path (issue 4 §8): photos go in through intake,
 * POST /v1/generations reserves a credit and queues the job, the queue
 * consumer submits to (fake) Fal, a signed webhook finalizes, and the owner
 * reads decryptable outputs. Everything runs through the real queue.
 */
import { sealAudit } from "../../worker/services/audit";
import { env, SELF } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { auditLog, ledger, objects } from "../../worker/db/schema";
import { base64Decode } from "../../worker/lib/bytes";
import { balanceOf } from "../../worker/services/users";
import { api, json, services } from "../helpers";
import { upload } from "../intake/helpers";
import { FakeFal, makeJpeg, MODEL } from "./fake-fal";
import { consentingUser, createBody, parentsFor, postGeneration, row, waitFor } from "./fixtures";

interface GenerationBody {
  id: string;
  status: string;
  stage: string;
  progress: { percent: number; stage: string; queuePosition: number | null; elapsedSeconds: number };
  error: { code: string; message: string } | null;
  outputs: { id: string; width: number; height: number; contentType: string; url: string | null; downloadPath: string }[];
}

let fal: FakeFal;
let alice = "";

beforeAll(async () => {
  fal = await new FakeFal().init();
  alice = await consentingUser("alice");
});
beforeEach(() => {
  fal.use();
});

describe("happy path", () => {
  it("uploads, generates through the queue and Fal, and serves decryptable outputs to the owner only", async () => {
    const upMother = await upload("alice", makeJpeg(400, 300, 1));
    const upFather = await upload("alice", makeJpeg(300, 400, 2));
    expect(upMother.res.status).toBe(201);
    expect(upFather.res.status).toBe(201);
    const motherPhotoId = (await json<{ id: string }>(upMother.res)).id;
    const fatherPhotoId = (await json<{ id: string }>(upFather.res)).id;
    const before = await balanceOf(services().db, alice);

    const res = await postGeneration("alice", { motherPhotoId, fatherPhotoId, gender: "girl", ageGroup: "toddler", resemblance: 0.7, images: 2 });
    expect(res.status).toBe(202);
    const created = await json<GenerationBody>(res);
    expect(res.headers.get("location")).toBe(`/v1/generations/${created.id}`);
    expect(created.status).toBe("queued");
    expect(await balanceOf(services().db, alice)).toBe(before - services().config.GENERATION_COST);

    // The consumer picks the job up and submits it.
    const submitted = await waitFor(created.id, (r) => r.status === "submitted");
    const sent = fal.requests.get(submitted.providerRequestId ?? "");
    if (!sent) throw new Error("Fal never saw the request");

    // What Fal received: photos inline as data URIs (never uploaded), no stored IO, our webhook.
    const input = sent.input;
    expect(String((input["mother_image_urls"] as string[])[0])).toMatch(/^data:image\/jpeg;base64,/);
    expect(String((input["father_image_urls"] as string[])[0])).toMatch(/^data:image\/jpeg;base64,/);
    expect(input).toMatchObject({ age_group: "toddler", gender: "female", father_weight: 0.3, num_images: 2 });
    expect(sent.headers["x-fal-store-io"]).toBe("0");
    expect(JSON.parse(sent.headers["x-fal-object-lifecycle-preference"] ?? "{}")).toEqual({ expiration_duration_seconds: 3600 });
    expect(sent.webhookUrl).toBe(`${env.PUBLIC_API_URL}/v1/webhooks/fal`);
    // The decrypted parent bytes are what was sent (intake stripped nothing a canvas would keep).
    const motherSent = base64Decode(String((input["mother_image_urls"] as string[])[0]).split(",")[1] ?? "");
    expect(motherSent[0]).toBe(0xff);
    expect(motherSent[1]).toBe(0xd8);

    fal.complete(sent.id);
    const hook = await fal.webhook(sent.id);
    expect(hook.status).toBe(200);
    expect(await json(hook)).toEqual({ received: true, result: "completed" });

    const view = await api(`/v1/generations/${created.id}`, { user: "alice" });
    expect(view.status).toBe(200);
    const done = await json<GenerationBody>(view);
    expect(done.status).toBe("completed");
    expect(done.progress.percent).toBe(100);
    expect(done.error).toBeNull();
    expect(done.outputs).toHaveLength(2);
    for (const o of done.outputs) {
      expect(o).toMatchObject({ width: 320, height: 384, contentType: "image/jpeg" });
      expect(o.url).toMatch(/\/v1\/files\/img_[0-9a-f]{32}\?/);
    }

    // Owner route: decrypted image with no-store and nosniff.
    const first = done.outputs[0];
    if (!first) throw new Error("no output");
    const img = await api(first.downloadPath, { user: "alice" });
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toBe("image/jpeg");
    expect(img.headers.get("cache-control")).toBe("private, no-store");
    expect(img.headers.get("x-content-type-options")).toBe("nosniff");
    const bytes = new Uint8Array(await img.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);

    // The signed link serves the same bytes without credentials.
    const linked = await SELF.fetch(first.url ?? "");
    expect(linked.status).toBe(200);
    expect(new Uint8Array(await linked.arrayBuffer())).toEqual(bytes);

    // At rest it is ciphertext: the JPEG magic is not at the start of the R2 object.
    const stored = await services().db.select().from(objects).where(eq(objects.id, first.id)).get();
    const r2 = await env.BUCKET.get(stored?.r2Key ?? "");
    const raw = new Uint8Array((await r2?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(raw.length).toBeGreaterThan(bytes.length);
    expect([raw[0], raw[1]]).not.toEqual([0xff, 0xd8]);

    // Another user gets the same 404 as for a missing id.
    expect((await api(`/v1/generations/${created.id}`, { user: "bob" })).status).toBe(404);
    expect((await api(first.downloadPath, { user: "bob" })).status).toBe(404);

    // Fal was asked to forget the request; the parents now expire (keepPhotosDays = 0).
    expect(sent.payloadsDeleted).toBe(true);
    const parents = await services().db.select().from(objects).where(and(eq(objects.userId, alice), eq(objects.kind, "photo"))).all();
    const finished = await row(created.id);
    for (const p of parents.filter((x) => x.id === motherPhotoId || x.id === fatherPhotoId)) expect(p.expiresAt).toBe(finished.completedAt);

    // Exactly one reservation and no refund; the audit log tells the story.
    const moves = await services().db.select().from(ledger).where(eq(ledger.reference, created.id)).all();
    expect(moves.map((m) => m.reason)).toEqual(["reserve"]);
    await sealAudit(services().db, alice);
    const actions = (await services().db.select().from(auditLog).where(eq(auditLog.userId, alice)).all()).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["generation.created", "generation.completed", "generation.viewed", "file.downloaded"]));
  });

  it("shows queue position and stage from status polls while waiting", async () => {
    const parents = await parentsFor(alice);
    const res = await postGeneration("alice", createBody(parents));
    const { id } = await json<{ id: string }>(res);
    await waitFor(id, (r) => r.status === "submitted");
    // The fake reports queue position 2 while IN_QUEUE; run the poll step now instead of waiting for its delay.
    const { generationHandlers } = await import("../../worker/services/generation-jobs");
    await generationHandlers()["generation.poll"](services(), { kind: "generation.poll", generationId: id, attempt: 0 }, { attempts: 1, deadLetter: false });
    const view = await json<GenerationBody>(await api(`/v1/generations/${id}`, { user: "alice" }));
    expect(view.status).toBe("submitted");
    expect(view.progress).toMatchObject({ stage: "in_queue", queuePosition: 2 });
    expect(view.progress.percent).toBeGreaterThan(5);
    expect(view.progress.percent).toBeLessThan(100);

    const r = await row(id);
    const req = fal.requests.get(r.providerRequestId ?? "");
    if (!req) throw new Error("not submitted");
    req.status = "IN_PROGRESS";
    await generationHandlers()["generation.poll"](services(), { kind: "generation.poll", generationId: id, attempt: 1 }, { attempts: 1, deadLetter: false });
    const running = await json<GenerationBody>(await api(`/v1/generations/${id}`, { user: "alice" }));
    expect(running.progress).toMatchObject({ stage: "in_progress", queuePosition: null });
  });

  it("lists generations newest first with a cursor", async () => {
    const userId = await consentingUser("carol");
    const parents = await parentsFor(userId);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await json<{ id: string }>(await postGeneration("carol", createBody(parents)))).id);
    const page1 = await json<{ items: GenerationBody[]; nextCursor: string | null }>(await api("/v1/generations?limit=2", { user: "carol" }));
    expect(page1.items.map((g) => g.id)).toEqual([ids[2], ids[1]]);
    expect(page1.nextCursor).toBeTruthy();
    const page2 = await json<{ items: GenerationBody[]; nextCursor: string | null }>(
      await api(`/v1/generations?limit=2&cursor=${encodeURIComponent(page1.nextCursor ?? "")}`, { user: "carol" }),
    );
    expect(page2.items.map((g) => g.id)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeNull();
    // Nobody else's generations leak into a list.
    const bobs = await json<{ items: GenerationBody[] }>(await api("/v1/generations", { user: "bob" }));
    expect(bobs.items.filter((g) => ids.includes(g.id))).toEqual([]);
  });

  it("measures the bare queue round trip for the benchmark (development only)", async () => {
    const sent = await SELF.fetch("http://api.test/v1/dev/queue-ping", { method: "POST" });
    expect(sent.status).toBe(202);
    const { pingId, sentAt } = await json<{ pingId: string; sentAt: number }>(sent);
    let receivedAt: number | null = null;
    for (let i = 0; i < 200 && receivedAt === null; i++) {
      receivedAt = (await json<{ receivedAt: number | null }>(await SELF.fetch(`http://api.test/v1/dev/queue-ping/${pingId}`))).receivedAt;
      if (receivedAt === null) await new Promise((r) => setTimeout(r, 25));
    }
    expect(receivedAt).not.toBeNull();
    expect(receivedAt ?? 0).toBeGreaterThanOrEqual(sentAt);
  });

  it("documents the routes in the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await SELF.fetch("http://api.test/v1/openapi.json"));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/generations", "/v1/generations/{id}", "/v1/generations/{id}/cancel", "/v1/generations/{id}/outputs/{objectId}", "/v1/webhooks/fal"]),
    );
    expect(MODEL).toBe(services().config.FAL_MODEL);
  });
});
