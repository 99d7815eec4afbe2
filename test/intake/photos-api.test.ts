/**
 * Issue 3, the photo resource and the upload key: listing, reading and
 * deleting are owner-only (404 for anyone else, same as a missing id), every
 * access is audited, and upload keys rotate without breaking uploads.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, deletionReceipts, objects } from "../../worker/db/schema";
import { jpegWithExif, pngWithText, webpWithExif } from "../fixtures/images";
import { api, expectProblem, json, services, signIn } from "../helpers";
import { bytesOf, post, r2Keys, ringPublicKey, seal, upload, uploadKey, type PhotoBody } from "./helpers";
import { openAuditRows, sealAudit } from "../../worker/services/audit";

async function actions(userId: string): Promise<string[]> {
  await sealAudit(services().db, userId);
  const rows = await services().db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.userId, userId)).all();
  return rows.map((r) => r.action);
}

describe("upload key: happy path", () => {
  it("GET /v1/keys/upload is public and advertises only the current key, as a public JWK", async () => {
    const res = await api("/v1/keys/upload");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const body = await json<Record<string, unknown> & { publicKey: Record<string, unknown> }>(res);
    const ring = JSON.parse(env.HPKE_KEYS ?? "{}") as { current: string };
    expect(body).toMatchObject({
      keyId: ring.current,
      envelopeVersion: 1,
      suite: { kem: "DHKEM(P-256, HKDF-SHA256)", kdf: "HKDF-SHA256", aead: "AES-256-GCM", ids: { kem: 16, kdf: 1, aead: 2 } },
      maxUploadBytes: Number(env.MAX_UPLOAD_BYTES),
    });
    expect(body.publicKey).toMatchObject({ kty: "EC", crv: "P-256", kid: ring.current, use: "enc" });
    expect(body.publicKey).not.toHaveProperty("d");
    expect(JSON.stringify(body)).not.toContain((JSON.parse(env.HPKE_KEYS ?? "{}") as { keys: Record<string, { d: string }> }).keys[ring.current]?.d);
  });

  it("an envelope sealed to the previous (non-current) ring key is still accepted", async () => {
    const userId = await signIn("alice");
    const sealed = await seal(userId, bytesOf(jpegWithExif), { keyId: "hpke-test-1", publicJwk: ringPublicKey("hpke-test-1") });
    const res = await post("alice", sealed.envelope, { uploadId: sealed.uploadId, headers: { "x-upload-key-id": "hpke-test-1" } });
    expect(res.status).toBe(201);
    expect((await uploadKey()).keyId).toBe("hpke-test-2");
  });

  it("is described in the OpenAPI document with the photo routes", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await api("/v1/openapi.json"));
    expect(Object.keys(doc.paths["/v1/keys/upload"] ?? {})).toContain("get");
    expect(Object.keys(doc.paths["/v1/photos"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/photos/{id}"] ?? {}).sort()).toEqual(["delete", "get"]);
  });
});

describe("photos: happy path", () => {
  it("list (newest first, cursor pages), read and delete, each audited", async () => {
    const ids: string[] = [];
    let userId = "";
    for (const [bytes, type] of [
      [jpegWithExif, "image/jpeg"],
      [pngWithText, "image/png"],
      [webpWithExif, "image/webp"],
    ] as const) {
      const up = await upload("bob", bytesOf(bytes), type);
      expect(up.res.status).toBe(201);
      ids.push((await json<PhotoBody>(up.res)).id);
      userId = up.userId;
    }
    const seen: PhotoBody[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(`/v1/photos?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { user: "bob" });
      expect(res.status).toBe(200);
      const page: { photos: PhotoBody[]; nextCursor: string | null } = await json(res);
      expect(page.photos.length).toBeLessThanOrEqual(2);
      seen.push(...page.photos);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((p) => p.id)).toEqual([...ids].reverse());
    expect(seen.map((p) => p.contentType)).toEqual(["image/webp", "image/png", "image/jpeg"]);

    const one = await api(`/v1/photos/${ids[0]}`, { user: "bob" });
    expect(one.status).toBe(200);
    expect(await json<PhotoBody>(one)).toMatchObject({ id: ids[0], width: 320, height: 400, contentType: "image/jpeg" });

    const row = await services().db.select().from(objects).where(eq(objects.id, ids[0] ?? "")).get();
    const del = await api(`/v1/photos/${ids[0]}`, { user: "bob", method: "DELETE" });
    // 200 with the deletion receipt (routes/photos.ts, changed from 204 by the data-rights work): counts and a hashed id only.
    expect(del.status).toBe(200);
    const receipt = await json<Record<string, unknown>>(del);
    expect(receipt).toMatchObject({ kind: "photo", counts: { photos: 1 } });
    expect(JSON.stringify(receipt)).not.toContain(ids[0]);
    expect(await env.BUCKET.head(row?.r2Key ?? "")).toBeNull();
    await expectProblem(await api(`/v1/photos/${ids[0]}`, { user: "bob" }), 404, "not_found");
    await expectProblem(await api(`/v1/photos/${ids[0]}`, { user: "bob", method: "DELETE" }), 404, "not_found");
    expect(await services().db.select().from(deletionReceipts).where(eq(deletionReceipts.kind, "photo")).all()).toHaveLength(1);

    const log = await actions(userId);
    expect(log.filter((a) => a === "photo.uploaded")).toHaveLength(3);
    expect(log).toContain("photo.listed");
    expect(log).toContain("photo.viewed");
    expect(log).toContain("photo.deleted");
    const uploaded = await services()
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, userId), eq(auditLog.action, "photo.uploaded")))
      .all()
      .then((rows) => openAuditRows(services(), rows));
    expect(uploaded.map((r) => JSON.parse(r.detail ?? "{}") as Record<string, unknown>)[0]).toMatchObject({ metadataRemoved: expect.stringContaining("exif") });
  });
});

describe("photos: security", () => {
  it("another user gets 404 for reading, deleting, and does not see the photo in lists; nothing is removed", async () => {
    const up = await upload("alice", bytesOf(jpegWithExif));
    const { id } = await json<PhotoBody>(up.res);
    // Carol's first sign-in makes her data key (decision 0012); after that her requests must change nothing in R2.
    expect((await api("/v1/me", { user: "carol" })).status).toBe(200);
    const keysBefore = await r2Keys();
    const missing = await expectProblem(await api("/v1/photos/pho_00000000000000000000000000000000", { user: "carol" }), 404, "not_found");
    const other = await expectProblem(await api(`/v1/photos/${id}`, { user: "carol" }), 404, "not_found");
    expect({ ...other, requestId: "", instance: "" }).toEqual({ ...missing, requestId: "", instance: "" });
    await expectProblem(await api(`/v1/photos/${id}`, { user: "carol", method: "DELETE" }), 404, "not_found");
    const list = await json<{ photos: PhotoBody[] }>(await api("/v1/photos", { user: "carol" }));
    expect(list.photos.map((p) => p.id)).not.toContain(id);
    expect(await r2Keys()).toEqual(keysBefore);
    expect((await api(`/v1/photos/${id}`, { user: "alice" })).status).toBe(200);
  });

  it("malformed ids and cursors are 400, never 500", async () => {
    await signIn("alice");
    await expectProblem(await api("/v1/photos/not-an-id", { user: "alice" }), 400, "validation_failed");
    await expectProblem(await api("/v1/photos?cursor=%%%", { user: "alice" }), 400, "validation_failed");
    await expectProblem(await api("/v1/photos?limit=1000", { user: "alice" }), 400, "validation_failed");
  });

  it("reading needs credentials", async () => {
    await expectProblem(await api("/v1/photos"), 401, "unauthorized");
    await expectProblem(await api("/v1/photos/pho_00000000000000000000000000000000", { method: "DELETE" }), 401, "unauthorized");
  });
});
