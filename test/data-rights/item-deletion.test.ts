/**
 * Deleting one generation or one photo (docs/architecture.md): its R2 objects, its
 * rows and any export holding it go at once, links to it die, and a receipt
 * without personal data comes back and is stored.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { deletionReceipts, exportsTable, generations, objects } from "../../worker/db/schema";
import { newId } from "../../worker/lib/ids";
import { subjectHash } from "../../worker/services/deletion";
import { signedUrlFor } from "../../worker/services/signed-links";
import { putObject } from "../../worker/services/storage";
import { balanceOf } from "../../worker/services/users";
import { api, expectProblem, json, services } from "../helpers";
import { allR2Keys, imageBytes, reservedQueuedGeneration, seedAccount } from "./fixtures";

interface Receipt {
  id: string;
  kind: string;
  subjectHash: string;
  counts: Record<string, number>;
  deletedAt: string;
}

const path = (url: string) => new URL(url).pathname + new URL(url).search;

async function readyExport(userId: string, completedAt: number): Promise<{ id: string; objectId: string }> {
  const s = services();
  const obj = await putObject(s, { userId, kind: "export", contentType: "application/zip", bytes: imageBytes(999, 500) });
  const id = newId("exp");
  await s.db.insert(exportsTable).values({ id, userId, status: "ready", progress: 100, objectId: obj.id, createdAt: completedAt, completedAt, expiresAt: Date.now() + 3_600_000 });
  return { id, objectId: obj.id };
}

async function exportExists(id: string): Promise<boolean> {
  return (await services().db.select().from(exportsTable).where(eq(exportsTable.id, id)).get()) !== undefined;
}

describe("delete a generation: happy", () => {
  it("removes its images, row and exports holding it; returns and stores an anonymous receipt; links die", async () => {
    const a = await seedAccount("gen-del-1", 31);
    const s = services();
    const outputKeys = (await s.db.select().from(objects).where(eq(objects.generationId, a.generationId)).all()).map((o) => o.r2Key);
    expect(outputKeys).toHaveLength(2);
    const link = await signedUrlFor(s, { objectId: a.outputIds[0] ?? "", ownerId: a.userId });
    const ok = await api(path(link.url));
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const older = await readyExport(a.userId, Date.now() - 10 * 60_000);
    const newer = await readyExport(a.userId, Date.now() + 1);

    const res = await api(`/v1/generations/${a.generationId}`, { method: "DELETE", user: a.user });
    expect(res.status).toBe(200);
    const receipt = await json<Receipt>(res);
    expect(receipt.kind).toBe("generation");
    expect(receipt.counts).toEqual({ generations: 1, outputs: 2, exports: 1 });
    expect(receipt.subjectHash).toBe(await subjectHash(services(), "generation", a.generationId));
    const text = JSON.stringify(receipt);
    for (const id of [a.userId, a.generationId, ...a.outputIds, ...a.photoIds]) expect(text).not.toContain(id);
    const stored = await s.db.select().from(deletionReceipts).where(eq(deletionReceipts.id, receipt.id)).get();
    expect(stored?.kind).toBe("generation");
    expect(JSON.parse(stored?.counts ?? "{}")).toEqual(receipt.counts);

    const keys = await allR2Keys();
    for (const k of outputKeys) expect(keys).not.toContain(k);
    expect(await s.db.select().from(generations).where(eq(generations.id, a.generationId)).get()).toBeUndefined();
    expect(await s.db.select().from(objects).where(eq(objects.generationId, a.generationId)).all()).toEqual([]);
    await expectProblem(await api(`/v1/generations/${a.generationId}`, { user: a.user }), 404, "not_found");
    expect((await api(path(link.url))).status).not.toBe(200);
    // The export made after the generation existed held it and is gone; the older one did not.
    expect(await exportExists(newer.id)).toBe(false);
    expect(keys.some((k) => k.endsWith(newer.objectId))).toBe(false);
    expect(await exportExists(older.id)).toBe(true);
    // Parent photos follow their own retention.
    expect((await s.db.select().from(objects).where(eq(objects.id, a.photoIds[0])).get())?.id).toBe(a.photoIds[0]);
    // Audit: the deletion is recorded with its receipt id.
    const audit = await json<{ items: { action: string; detail: Record<string, unknown> | null }[] }>(await api("/v1/account/audit", { user: a.user }));
    expect(audit.items.find((e) => e.action === "generation.deleted")?.detail?.["receipt"]).toBe(receipt.id);
  });

  it("a generation still queued is canceled and its credits refunded before it goes", async () => {
    const a = await seedAccount("gen-del-2", 32);
    const s = services();
    const now = Date.now();
    const id = await reservedQueuedGeneration(a.userId, now, now + 600_000, a.photoIds);
    const before = await balanceOf(s.db, a.userId);
    const res = await api(`/v1/generations/${id}`, { method: "DELETE", user: a.user });
    expect(res.status).toBe(200);
    expect(await balanceOf(s.db, a.userId)).toBe(before + 1);
    expect(await s.db.select().from(generations).where(eq(generations.id, id)).get()).toBeUndefined();
  });
});

describe("delete a photo: happy", () => {
  it("removes the encrypted object and its row, detaches it from generations, and returns a receipt", async () => {
    const a = await seedAccount("pho-del-1", 33);
    const s = services();
    const [mother] = a.photoIds;
    const row = await s.db.select().from(objects).where(eq(objects.id, mother)).get();
    const res = await api(`/v1/photos/${mother}`, { method: "DELETE", user: a.user });
    expect(res.status).toBe(200);
    const receipt = await json<Receipt>(res);
    expect(receipt.kind).toBe("photo");
    expect(receipt.counts).toEqual({ photos: 1, exports: 0 });
    expect(receipt.subjectHash).toBe(await subjectHash(services(), "photo", mother));
    expect(JSON.stringify(receipt)).not.toContain(mother);
    expect(await env.BUCKET.head(row?.r2Key ?? "x")).toBeNull();
    expect(await s.db.select().from(objects).where(eq(objects.id, mother)).get()).toBeUndefined();
    expect((await s.db.select().from(generations).where(eq(generations.id, a.generationId)).get())?.motherPhotoId).toBeNull();
    await expectProblem(await api(`/v1/photos/${mother}`, { method: "DELETE", user: a.user }), 404, "not_found");
  });
});

describe("item deletion: security", () => {
  it("another user's generation or photo answers 404 exactly like a missing one, and nothing is deleted", async () => {
    const owner = await seedAccount("own-1", 34);
    await seedAccount("thief-1", 35);
    const missingGen = await expectProblem(await api(`/v1/generations/gen_${"0".repeat(32)}`, { method: "DELETE", user: "thief-1" }), 404, "not_found");
    const otherGen = await expectProblem(await api(`/v1/generations/${owner.generationId}`, { method: "DELETE", user: "thief-1" }), 404, "not_found");
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: "", instance: "" });
    expect(strip(otherGen)).toEqual({ ...strip(missingGen) });
    await expectProblem(await api(`/v1/photos/${owner.photoIds[0]}`, { method: "DELETE", user: "thief-1" }), 404, "not_found");
    const s = services();
    expect(await s.db.select().from(generations).where(eq(generations.id, owner.generationId)).get()).toBeDefined();
    expect((await s.db.select().from(objects).where(eq(objects.userId, owner.userId)).all()).length).toBe(4);
  });

  it("needs generations:write with an API key", async () => {
    const a = await seedAccount("scope-1", 36);
    const { generateApiKeySecret, hashApiKey } = await import("../../worker/auth/api-keys");
    const { apiKeys } = await import("../../worker/db/schema");
    const secret = generateApiKeySecret();
    await services()
      .db.insert(apiKeys)
      .values({ id: newId("key"), userId: a.userId, name: "ro", prefix: secret.slice(0, 11), hash: await hashApiKey(secret), scopes: JSON.stringify(["generations:read"]), createdAt: Date.now() });
    await expectProblem(await api(`/v1/generations/${a.generationId}`, { method: "DELETE", token: secret }), 403, "insufficient_scope");
    const res = await api(`/v1/generations/${a.generationId}`, { method: "DELETE", token: a.apiKeySecret });
    expect(res.status).toBe(200);
  });

  it("rejects malformed ids with a 400 listing the field", async () => {
    await seedAccount("bad-id-1", 37);
    const body = await expectProblem(await api("/v1/generations/not-an-id", { method: "DELETE", user: "bad-id-1" }), 400, "validation_failed");
    expect(JSON.stringify(body["errors"])).toContain("id");
  });
});
