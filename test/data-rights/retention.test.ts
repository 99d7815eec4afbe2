/**
 * Retention (docs/architecture.md), each rule with time moved forward by running the
 * cron's sweeps with `services({ now: () => later })`.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, exportsTable, generations, objects, outbox, securityLog, users } from "../../worker/db/schema";
import { newId } from "../../worker/lib/ids";
import { RETENTION } from "../../worker/lib/privacy-facts";
import { runSweeps } from "../../worker/scheduled";
import { completeGeneration, endGeneration } from "../../worker/services/generation";
import { sweepAbandonedUploads, sweepExpiredExports, sweepLogs, sweepOrphans, sweepParentPhotos } from "../../worker/services/retention";
import { putObject } from "../../worker/services/storage";
import { balanceOf } from "../../worker/services/users";
import { api, json, services } from "../helpers";
import { DAY_MS, HOUR, imageBytes, MINUTE, reservedQueuedGeneration, seedAccount } from "./fixtures";
import { openAuditRows } from "../../worker/services/audit";
import { insertGenerationRow } from "../access/fixtures";

const at = (ms: number) => services({ now: () => ms });

async function objectExists(id: string): Promise<boolean> {
  const row = await services().db.select().from(objects).where(eq(objects.id, id)).get();
  if (!row) return false;
  return (await env.BUCKET.head(row.r2Key)) !== null;
}

async function storePhoto(userId: string, seed: number, expiresAt: number | null = null): Promise<string> {
  return (await putObject(services(), { userId, kind: "photo", contentType: "image/jpeg", bytes: imageBytes(seed), width: 300, height: 300, expiresAt })).id;
}

/** A generation in `submitted` using both photos. */
async function submittedGeneration(userId: string, mother: string, father: string): Promise<string> {
  return insertGenerationRow({ userId, motherPhotoId: mother, fatherPhotoId: father, status: "submitted", stage: "running", deadlineAt: Date.now() + 20 * MINUTE });
}

async function setKeep(user: string, days: 0 | 7 | 30): Promise<void> {
  const res = await api("/v1/me/settings", { method: "PATCH", user, headers: { "content-type": "application/json" }, body: JSON.stringify({ keepPhotosDays: days }) });
  expect(res.status).toBe(200);
  expect(await json(res)).toEqual({ keepPhotosDays: days });
}

/**
 * An account (keeping parent photos `keepDays` days, if given) with a fresh
 * pair of photos used by a generation still running.
 */
async function runningWithFreshPhotos(user: string, seed: number, keepDays?: 7 | 30) {
  const a = await seedAccount(user, seed);
  if (keepDays !== undefined) await setKeep(a.user, keepDays);
  const mother = await storePhoto(a.userId, seed * 100 + 1);
  const father = await storePhoto(a.userId, seed * 100 + 2);
  const gen = await submittedGeneration(a.userId, mother, father);
  return { a, mother, father, gen };
}

describe("retention: parent photos", () => {
  it("are deleted once their generation finishes (keepPhotosDays 0)", async () => {
    const { a, mother, father, gen } = await runningWithFreshPhotos("ret-1", 51);
    // While the generation runs, no sweep touches its photos, whatever their time.
    await sweepParentPhotos(at(Date.now() + 2 * DAY_MS));
    expect(await objectExists(mother)).toBe(true);

    // Deleted in the step that completes the generation, not by a later sweep.
    expect(await completeGeneration(services(), gen, 1)).not.toBeNull();
    expect(await objectExists(mother)).toBe(false);
    expect(await objectExists(father)).toBe(false);
    // Results stay until the user deletes them.
    for (const id of a.outputIds) expect(await objectExists(id)).toBe(true);
    const audit = await services()
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, a.userId), eq(auditLog.action, "retention.deleted")))
      .all()
      .then((rows) => openAuditRows(services(), rows));
    expect(audit.some((e) => JSON.parse(e.detail ?? "{}")["rule"] === "parent-photos")).toBe(true);
  });

  it("are deleted at once when their generation fails or is canceled too", async () => {
    const { mother, father, gen } = await runningWithFreshPhotos("ret-1b", 58);
    expect(await endGeneration(services(), gen, "failed", "model_error")).not.toBeNull();
    expect(await objectExists(mother)).toBe(false);
    expect(await objectExists(father)).toBe(false);
  });

  it("if deleting them at completion fails, the sweep (the backstop) deletes them", async () => {
    const { mother, father, gen } = await runningWithFreshPhotos("ret-1c", 59);
    const failing = { ...env.BUCKET, delete: () => Promise.reject(new Error("R2 unavailable")) } as unknown as R2Bucket;
    expect(await completeGeneration(services({ env: { ...env, BUCKET: failing } }), gen, 1)).not.toBeNull();
    expect(await objectExists(mother)).toBe(true);
    const deleted = await sweepParentPhotos(at(Date.now() + MINUTE));
    expect(deleted).toBeGreaterThanOrEqual(2);
    expect(await objectExists(mother)).toBe(false);
    expect(await objectExists(father)).toBe(false);
  });

  it("are kept 7 days when the user chose so, then deleted", async () => {
    const { mother, father, gen } = await runningWithFreshPhotos("ret-2", 52, 7);
    await completeGeneration(services(), gen, 1);
    expect(await objectExists(mother)).toBe(true);
    await sweepParentPhotos(at(Date.now() + 6 * DAY_MS));
    expect(await objectExists(mother)).toBe(true);
    await sweepParentPhotos(at(Date.now() + 7 * DAY_MS + MINUTE));
    expect(await objectExists(mother)).toBe(false);
    expect(await objectExists(father)).toBe(false);
  });

  it("a new setting re-times photos already kept: 30 days, then back to 0 deletes them on the next sweep", async () => {
    const { a, mother, gen } = await runningWithFreshPhotos("ret-3", 53, 30);
    await completeGeneration(services(), gen, 1);
    await sweepParentPhotos(at(Date.now() + 29 * DAY_MS));
    expect(await objectExists(mother)).toBe(true);
    await setKeep(a.user, 0);
    await sweepParentPhotos(at(Date.now() + MINUTE));
    expect(await objectExists(mother)).toBe(false);
    const changed = await services()
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, a.userId), eq(auditLog.action, "settings.changed")))
      .all()
      .then((rows) => openAuditRows(services(), rows));
    expect(changed.map((e) => JSON.parse(e.detail ?? "{}")["to"])).toEqual([30, 0]);
  });

  it("settings accept only 0, 7 or 30 and only from a session", async () => {
    const a = await seedAccount("ret-4", 54);
    for (const bad of [1, 14, -7, "7", null]) {
      const res = await api("/v1/me/settings", { method: "PATCH", user: a.user, headers: { "content-type": "application/json" }, body: JSON.stringify({ keepPhotosDays: bad }) });
      expect(res.status).toBe(400);
    }
    const viaKey = await api("/v1/me/settings", { method: "PATCH", token: a.apiKeySecret, headers: { "content-type": "application/json" }, body: JSON.stringify({ keepPhotosDays: 30 }) });
    expect(viaKey.status).toBe(403); // insufficient_scope: a valid key on a session-only route
    expect((await services().db.select({ k: users.keepPhotosDays }).from(users).where(eq(users.id, a.userId)).get())?.k).toBe(0);
  });
});

describe("retention: abandoned uploads", () => {
  it("uploads never used by a generation go after 24 hours (with or without an expiry stamped at upload)", async () => {
    const a = await seedAccount("ret-5", 55);
    const now = Date.now();
    const stamped = await storePhoto(a.userId, 5501, now + RETENTION.abandonedUploadMs);
    const unstamped = await storePhoto(a.userId, 5502);
    await runSweeps(at(now + 23 * HOUR));
    expect(await objectExists(stamped)).toBe(true);
    expect(await objectExists(unstamped)).toBe(true);
    await sweepParentPhotos(at(now + 24 * HOUR + MINUTE));
    await sweepAbandonedUploads(at(now + 24 * HOUR + MINUTE));
    expect(await objectExists(stamped)).toBe(false);
    expect(await objectExists(unstamped)).toBe(false);
    // The seeded generation's own photos went as parent photos (it finished, keep 0), not as abandoned uploads.
    const entries = await services()
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, a.userId), eq(auditLog.action, "retention.deleted")))
      .all()
      .then((rows) => openAuditRows(services(), rows));
    const byRule = (rule: string) =>
      entries.map((e) => JSON.parse(e.detail ?? "{}") as { rule: string; count: number }).filter((d) => d.rule === rule).reduce((n, d) => n + d.count, 0);
    expect(byRule("abandoned-uploads")).toBe(2);
    expect(byRule("parent-photos")).toBe(2);
  });
});

describe("retention: exports", () => {
  it("a ready export and its ZIP are deleted one hour after it is ready", async () => {
    const a = await seedAccount("ret-6", 56);
    const now = Date.now();
    const zip = await putObject(services(), { userId: a.userId, kind: "export", contentType: "application/zip", bytes: imageBytes(5601, 400) });
    const id = newId("exp");
    await services()
      .db.insert(exportsTable)
      .values({ id, userId: a.userId, status: "ready", progress: 100, objectId: zip.id, createdAt: now, completedAt: now, expiresAt: now + RETENTION.exportTtlMs });
    await sweepExpiredExports(at(now + 59 * MINUTE));
    expect(await objectExists(zip.id)).toBe(true);
    await runSweeps(at(now + HOUR + MINUTE));
    expect(await objectExists(zip.id)).toBe(false);
    expect(await services().db.select().from(exportsTable).where(eq(exportsTable.id, id)).get()).toBeUndefined();
  });
});

describe("retention: stuck generations", () => {
  it("a generation past its deadline is failed and refunded by the cron", async () => {
    const a = await seedAccount("ret-7", 57);
    const s = services();
    const now = Date.now();
    const id = await reservedQueuedGeneration(a.userId, now, now + 20 * MINUTE);
    const before = await balanceOf(s.db, a.userId);
    await runSweeps(at(now + 21 * MINUTE));
    expect((await s.db.select().from(generations).where(eq(generations.id, id)).get())?.status).toBe("failed");
    expect(await balanceOf(s.db, a.userId)).toBe(before + 1);
  });
});

describe("retention: logs and strays", () => {
  it("purges the local outbox after 24 hours and the security log after 90 days", async () => {
    const s = services();
    const now = Date.now();
    const mail = newId("obx");
    await s.db.insert(outbox).values({ id: mail, recipient: "someone@example.test", subject: "s", body: "b", createdAt: now });
    const sec = newId("sec");
    await s.db.insert(securityLog).values({ id: sec, at: now, kind: "auth_failed", detail: "{}" });
    await sweepLogs(at(now + 23 * HOUR));
    expect(await s.db.select().from(outbox).where(eq(outbox.id, mail)).get()).toBeDefined();
    await sweepLogs(at(now + 24 * HOUR + MINUTE));
    expect(await s.db.select().from(outbox).where(eq(outbox.id, mail)).get()).toBeUndefined();
    expect(await s.db.select().from(securityLog).where(eq(securityLog.id, sec)).get()).toBeDefined();
    await sweepLogs(at(now + 90 * DAY_MS + MINUTE));
    expect(await s.db.select().from(securityLog).where(eq(securityLog.id, sec)).get()).toBeUndefined();
  });

  it("removes images whose generation is gone and objects whose account is gone", async () => {
    const a = await seedAccount("ret-8", 58);
    const s = services();
    const stray = await putObject(s, { userId: a.userId, kind: "output", contentType: "image/jpeg", bytes: imageBytes(5801), generationId: newId("gen") });
    const ghostUser = newId("usr");
    const ghost = await putObject(s, { userId: ghostUser, kind: "photo", contentType: "image/jpeg", bytes: imageBytes(5802) });
    expect(await sweepOrphans(s)).toBeGreaterThanOrEqual(2);
    expect(await objectExists(stray.id)).toBe(false);
    expect(await objectExists(ghost.id)).toBe(false);
    for (const id of a.outputIds) expect(await objectExists(id)).toBe(true);
  });
});
