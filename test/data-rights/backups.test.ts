/**
 * Backups and where the keys live (docs/decisions/0011, docs/runbooks/backups.md):
 * the scheduled backup copies the encrypted objects into the backup bucket,
 * never a key; deleting an account shreds the key in the key bucket, so every
 * copy taken before (the data bucket, the backup bucket) stops decrypting at
 * once while other users' copies keep decrypting; key files written before
 * 0011 move out of the data bucket with nothing unreadable on the way.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { tombstones } from "../../worker/db/schema";
import { loadConfig } from "../../worker/env";
import { RETENTION } from "../../worker/lib/privacy-facts";
import { runSweeps } from "../../worker/scheduled";
import { BACKUP_STATE_KEY, backupNow, decryptStoredObject, parseObjectKey, readBackupState, restoreDrill, runBackup } from "../../worker/services/backup";
import { migrateLegacyKey, userDataKey } from "../../worker/services/crypto/keys";
import { deleteObjects, getObject, putObject } from "../../worker/services/storage";
import type { Services } from "../../worker/services";
import { api, json, services, servicesWithMasterKeys } from "../helpers";
import { DAY_MS, imageBytes, seedAccount } from "./fixtures";

const CONFIRM = { method: "DELETE", headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) } as const;

/** A byte copy of every object under `prefix` in a bucket: what an operator's backup of it holds. */
async function copyOf(bucket: R2Bucket, prefix = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      const obj = await bucket.get(o.key);
      if (obj) out.set(o.key, new Uint8Array(await obj.arrayBuffer()));
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

/** Tries every copied object of `userId` with every secret the service has; counts what decrypts. */
async function readable(s: Services, copy: Map<string, Uint8Array>, userId: string): Promise<{ objects: number; decrypted: number; plain: Map<string, Uint8Array> }> {
  let objects = 0;
  let decrypted = 0;
  const plain = new Map<string, Uint8Array>();
  for (const [key, bytes] of copy) {
    const ref = parseObjectKey(key);
    if (ref?.userId !== userId) continue;
    objects++;
    try {
      plain.set(ref.objectId, await decryptStoredObject(s, key, bytes));
      decrypted++;
    } catch {
      // unreadable
    }
  }
  return { objects, decrypted, plain };
}

async function listKeys(bucket: R2Bucket, prefix: string): Promise<string[]> {
  return (await bucket.list({ prefix, limit: 1000 })).objects.map((o) => o.key);
}

/** Moves a user's key file back to where it lived before 0011 (the data bucket), as an old deployment left it. */
async function makeLegacy(userId: string): Promise<void> {
  const obj = await env.KEYS.get(`keys/${userId}`);
  if (!obj) throw new Error("no key file to move");
  await env.BUCKET.put(`keys/${userId}`, await obj.text(), { customMetadata: obj.customMetadata ?? {} });
  await env.KEYS.delete(`keys/${userId}`);
}

describe("backups: backup, then delete (security)", () => {
  it("a backup taken before an account deletion: 0 of the deleted user's objects decrypt with every secret, all of another user's do", async () => {
    const alice = await seedAccount("alice", 21);
    const bob = await seedAccount("bob", 22);
    const run = await backupNow(services());
    expect(run.copied).toBeGreaterThanOrEqual(8);

    // The operator's copy: the data bucket and the backup bucket, byte for byte.
    const dataCopy = await copyOf(env.BUCKET, "u/");
    const backupCopy = await copyOf(env.BACKUP, "u/");
    // No key file is in either: keys live in the key bucket, which no backup includes.
    expect([...(await copyOf(env.BUCKET)).keys()].filter((k) => !k.startsWith("u/"))).toEqual([]);
    expect([...(await copyOf(env.BACKUP)).keys()].filter((k) => !k.startsWith("u/"))).toEqual([BACKUP_STATE_KEY]);
    for (const copy of [dataCopy, backupCopy]) {
      expect((await readable(services(), copy, alice.userId)).decrypted).toBe(4);
      expect((await readable(services(), copy, bob.userId)).decrypted).toBe(4);
    }

    const res = await api("/v1/account", { ...CONFIRM, user: "alice" });
    expect(res.status).toBe(200);
    await res.arrayBuffer();

    for (const copy of [dataCopy, backupCopy]) {
      const a = await readable(services(), copy, alice.userId);
      expect(a).toMatchObject({ objects: 4, decrypted: 0 });
      const b = await readable(services(), copy, bob.userId);
      expect(b).toMatchObject({ objects: 4, decrypted: 4 });
      for (const [id, bytes] of b.plain) expect(bytes).toEqual(bob.plain.get(id));
    }
    // The backup bucket itself still holds alice's copies (they expire after N days), unreadable.
    expect((await listKeys(env.BACKUP, `u/${alice.userId}/`)).length).toBe(4);
    const drill = await restoreDrill(services(), env.BACKUP);
    expect(drill.users.find((u) => u.id === alice.userId)).toEqual({ id: alice.userId, objects: 4, decrypted: 0 });
    expect(drill.users.find((u) => u.id === bob.userId)).toEqual({ id: bob.userId, objects: 4, decrypted: 4 });
  });
});

describe("backups: the scheduled job", () => {
  it("runs from the cron, copies only new or changed objects after a pass, in bounded runs that record progress", async () => {
    const s = services();
    const results = await runSweeps(s);
    expect(results).toContainEqual({ name: "backup", ok: true });
    await backupNow(s);
    const again = await runBackup(s);
    expect(again).toMatchObject({ copied: 0, passComplete: true });

    const rows = [];
    for (let i = 0; i < 5; i++) {
      rows.push(await putObject(s, { userId: "usr_bounded", kind: "photo", contentType: "image/jpeg", bytes: imageBytes(300 + i, 500) }));
    }
    const first = await runBackup(s, { maxObjects: 2 });
    expect(first.checked).toBe(2);
    expect(first.passComplete).toBe(false);
    expect((await readBackupState(env.BACKUP)).lastKey).not.toBeNull();
    let copied = first.copied;
    for (let i = 0; i < 100; i++) {
      const r = await runBackup(s, { maxObjects: 2 });
      expect(r.checked).toBeLessThanOrEqual(2);
      copied += r.copied;
      if (r.passComplete) break;
    }
    expect(copied).toBe(5);
    for (const row of rows) expect(await env.BACKUP.head(row.r2Key)).not.toBeNull();
    expect((await runBackup(s)).copied).toBe(0);
  });

  it("never copies a key file, even one still left in the data bucket from before 0011", async () => {
    const s = services();
    await putObject(s, { userId: "usr_legacy_backup", kind: "photo", contentType: "image/jpeg", bytes: imageBytes(7, 400) });
    await makeLegacy("usr_legacy_backup");
    await backupNow(s);
    expect(await listKeys(env.BACKUP, "keys/")).toEqual([]);
    expect(await listKeys(env.BACKUP, "u/usr_legacy_backup/")).toHaveLength(1);
  });

  it(`backup copies expire after ${RETENTION.backupDays} days; a file that still exists is copied again before that`, async () => {
    const s = services();
    const kept = await putObject(s, { userId: "usr_expiry", kind: "photo", contentType: "image/jpeg", bytes: imageBytes(8, 400) });
    const gone = await putObject(s, { userId: "usr_expiry", kind: "photo", contentType: "image/jpeg", bytes: imageBytes(9, 400) });
    await backupNow(s);
    await deleteObjects(s, "usr_expiry", [gone.id]);
    expect(await env.BACKUP.head(gone.r2Key)).not.toBeNull();

    // One day short of N: nothing expires.
    await backupNow(services({ now: () => Date.now() + (RETENTION.backupDays - 1) * DAY_MS }));
    expect(await env.BACKUP.head(gone.r2Key)).not.toBeNull();
    // N days and a bit after the copy: the deleted file's copy is gone, the live one was refreshed and stays.
    await backupNow(services({ now: () => Date.now() + (RETENTION.backupDays + 1) * DAY_MS }));
    expect(await env.BACKUP.head(gone.r2Key)).toBeNull();
    expect(await env.BACKUP.head(kept.r2Key)).not.toBeNull();
  });

  it("GET /v1/privacy states the configured backup retention and the window after deletion", async () => {
    const body = await json<{ retention: { id: string; seconds: number | null }[]; limits: string[] }>(await api("/v1/privacy"));
    expect(body.retention.find((r) => r.id === "backups")?.seconds).toBe(Number(env.BACKUP_RETENTION_DAYS) * 86_400);
    expect(body.limits.join(" ")).toContain(`until they are ${env.BACKUP_RETENTION_DAYS} days old`);
  });

  it("a deployment whose BACKUP_RETENTION_DAYS differs from the published figure refuses to start", () => {
    expect(() => loadConfig({ ...env, BACKUP_RETENTION_DAYS: String(RETENTION.backupDays + 1) })).toThrow(/BACKUP_RETENTION_DAYS must be/);
    expect(() => loadConfig({ ...env, BACKUP_RETENTION_DAYS: undefined as unknown as string })).toThrow(/BACKUP_RETENTION_DAYS is missing/);
  });
});

describe("keys apart from data: migration from the data bucket", () => {
  it("read-through: a legacy key file is moved on first use, every object stays readable, no keys/ is left in the data bucket", async () => {
    const s = services();
    const rows = [];
    for (let i = 0; i < 3; i++) rows.push(await putObject(s, { userId: "usr_mig_read", kind: "output", contentType: "image/png", bytes: imageBytes(40 + i, 700) }));
    await makeLegacy("usr_mig_read");
    expect(await listKeys(env.BUCKET, "keys/usr_mig_read")).toHaveLength(1);

    // Three first reads at once, after the move began nowhere: one create-only copy wins, all read.
    const reads = await Promise.all(rows.map((r) => getObject(services(), "usr_mig_read", r.id)));
    reads.forEach((got, i) => expect(got?.bytes).toEqual(imageBytes(40 + i, 700)));
    expect(await listKeys(env.BUCKET, "keys/")).not.toContain("keys/usr_mig_read");
    expect(await env.KEYS.head("keys/usr_mig_read")).not.toBeNull();
    for (const r of rows) expect((await getObject(services(), "usr_mig_read", r.id))?.bytes.length).toBe(700);
  });

  it("the keys.migrate sweep moves every remaining legacy file (including one under an old KEK) and rotation still works", async () => {
    const old = servicesWithMasterKeys("kek-test-1", ["kek-test-1", "kek-test-2"]);
    const users = ["usr_mig_a", "usr_mig_b", "usr_mig_c"];
    const rows = new Map<string, { id: string; seed: number }>();
    for (const [i, u] of users.entries()) {
      const row = await putObject(i === 0 ? old : services(), { userId: u, kind: "photo", contentType: "image/jpeg", bytes: imageBytes(50 + i, 600) });
      rows.set(u, { id: row.id, seed: 50 + i });
      await makeLegacy(u);
    }
    expect((await listKeys(env.BUCKET, "keys/")).length).toBeGreaterThanOrEqual(3);
    // The stored bytes, kept aside: other sweeps of the same cron run may delete these row-less test objects.
    const stored = await copyOf(env.BUCKET, "u/usr_mig_");

    const results = await runSweeps(services());
    expect(results).toContainEqual({ name: "keys.migrate", ok: true });
    expect(await listKeys(env.BUCKET, "keys/")).toEqual([]);
    for (const u of users) {
      expect(await env.KEYS.head(`keys/${u}`)).not.toBeNull();
      const row = rows.get(u);
      const got = await readable(services(), stored, u);
      expect(got).toMatchObject({ objects: 1, decrypted: 1 });
      expect(got.plain.get(row?.id ?? "")).toEqual(imageBytes(row?.seed ?? 0, 600));
    }
    // The same cron run re-wrapped the moved old-KEK file, so the old KEK can be retired.
    expect((await env.KEYS.head("keys/usr_mig_a"))?.customMetadata).toEqual({ kek: "kek-test-2" });
    const retired = await readable(servicesWithMasterKeys("kek-test-2", ["kek-test-2"]), stored, "usr_mig_a");
    expect(retired.decrypted).toBe(1);
  });

  it("a move racing an account deletion cannot bring the key back: with a tombstone present the copy is shredded again", async () => {
    const s = services();
    const row = await putObject(s, { userId: "usr_mig_race", kind: "photo", contentType: "image/jpeg", bytes: imageBytes(60, 300) });
    await makeLegacy("usr_mig_race");
    const now = Date.now();
    await s.db.insert(tombstones).values({ userId: "usr_mig_race", externalId: "user_local_race", stage: "started", attempts: 0, createdAt: now, updatedAt: now });
    expect(await migrateLegacyKey(s, "usr_mig_race")).toBe("moved");
    expect(await env.KEYS.head("keys/usr_mig_race")).toBeNull();
    expect(await env.BUCKET.head("keys/usr_mig_race")).toBeNull();
    expect(await userDataKey(services(), "usr_mig_race", { create: false })).toBeNull();
    expect(await getObject(services(), "usr_mig_race", row.id)).toBeNull();
  });
});
