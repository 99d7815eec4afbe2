/**
 * Batched audit appends (appendAuditMany) and the cheaper authenticated read
 * path: a route's events land in order, in one transaction, on one unbroken
 * chain, before the answer; the session lookup still refuses accounts being
 * deleted.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { authenticateApiKey, LAST_USED_RESOLUTION_MS } from "../../worker/auth/api-keys";
import { apiKeys, tombstones } from "../../worker/db/schema";
import { appendAudit, appendAuditMany, chainHeadQuery, loadChain, verifyChain } from "../../worker/services/audit";
import { findUserByExternalId } from "../../worker/services/users";
import { api, expectProblem, json, services, signIn } from "../helpers";
import { auditRows, freshUserId, insertApiKey, insertGeneration, insertObjectRow, linkUsedEvent } from "./fixtures";

let alice = "";

beforeAll(async () => {
  alice = await signIn("alice");
});

describe("appendAuditMany: happy", () => {
  it("appends every event in order on top of the existing chain, each linked to the one before", async () => {
    const s = services();
    const userId = freshUserId("batch");
    await appendAudit(s.db, linkUsedEvent(userId, 0), Date.now());
    const rows = await appendAuditMany(s.db, [linkUsedEvent(userId, 1), linkUsedEvent(userId, 2), linkUsedEvent(userId, 3)], Date.now());
    expect(rows.map((r) => [r.seq, r.targetId])).toEqual([
      [2, "img_1"],
      [3, "img_2"],
      [4, "img_3"],
    ]);
    const chain = await loadChain(s.db, userId);
    expect(chain.map((r) => r.hash)).toEqual([chain[0]?.hash, ...rows.map((r) => r.hash)]);
    expect(rows[1]?.prevHash).toBe(rows[0]?.hash);
    expect(await verifyChain(chain)).toEqual({ ok: true, entries: 4 });
  });

  it("GET /v1/generations/:id logs generation.viewed then link.issued, adjacent, with the request id, before answering", async () => {
    const gen = await insertGeneration(alice);
    const img = await insertObjectRow(alice, "output", gen);
    const before = (await auditRows(alice)).length;
    const res = await api(`/v1/generations/${gen}`, { user: "alice" });
    expect(res.status).toBe(200);
    const body = await json<{ outputs: { id: string; url: string | null }[] }>(res);
    expect(body.outputs.map((o) => o.id)).toEqual([img]);
    expect(body.outputs[0]?.url).toContain(`/v1/files/${img}?`);
    const rows = (await auditRows(alice)).slice(before);
    expect(rows.map((r) => [r.action, r.targetType, r.targetId])).toEqual([
      ["generation.viewed", "generation", gen],
      ["link.issued", "object", img],
    ]);
    expect(rows[0]?.requestId).toBe(res.headers.get("x-request-id"));
    expect(rows[1]?.requestId).toBe(res.headers.get("x-request-id"));
    expect(rows[1]?.seq).toBe((rows[0]?.seq ?? 0) + 1);
    expect(await verifyChain(await loadChain(services().db, alice))).toMatchObject({ ok: true });
  });

  it("a generation without outputs logs only generation.viewed", async () => {
    const gen = await insertGeneration(alice, "queued");
    const before = (await auditRows(alice)).length;
    const res = await api(`/v1/generations/${gen}`, { user: "alice" });
    expect(res.status).toBe(200);
    expect((await auditRows(alice)).slice(before).map((r) => r.action)).toEqual(["generation.viewed"]);
  });

  it("GET /v1/generations logs generation.listed and one link.issued for the page", async () => {
    const before = (await auditRows(alice)).length;
    const res = await api("/v1/generations?limit=50", { user: "alice" });
    expect(res.status).toBe(200);
    expect((await auditRows(alice)).slice(before).map((r) => r.action)).toEqual(["generation.listed", "link.issued"]);
  });
});

describe("appendAuditMany: errors", () => {
  it("a stale chain head (read before others appended) is refused by the unique index and retried on the real head", async () => {
    const s = services();
    const userId = freshUserId("batch");
    await appendAudit(s.db, linkUsedEvent(userId, 0), Date.now());
    const stale = await chainHeadQuery(s.db, userId).get();
    await appendAuditMany(s.db, [linkUsedEvent(userId, 1), linkUsedEvent(userId, 2)], Date.now());
    const rows = await appendAuditMany(s.db, [linkUsedEvent(userId, 3), linkUsedEvent(userId, 4)], Date.now(), { head: stale ?? null });
    expect(rows.map((r) => r.seq)).toEqual([4, 5]);
    expect(await verifyChain(await loadChain(s.db, userId))).toEqual({ ok: true, entries: 5 });
  });

  it("a stale empty-chain hint (null) on a chain that has entries is retried too", async () => {
    const s = services();
    const userId = freshUserId("batch");
    await appendAudit(s.db, linkUsedEvent(userId, 0), Date.now());
    const rows = await appendAuditMany(s.db, [linkUsedEvent(userId, 1)], Date.now(), { head: null });
    expect(rows.map((r) => r.seq)).toEqual([2]);
    expect(await verifyChain(await loadChain(s.db, userId))).toEqual({ ok: true, entries: 2 });
  });

  it("no events writes nothing", async () => {
    const s = services();
    const userId = freshUserId("batch");
    expect(await appendAuditMany(s.db, [], Date.now())).toEqual([]);
    expect(await loadChain(s.db, userId)).toEqual([]);
  });

  it("events of two users in one call are refused and nothing is written", async () => {
    const s = services();
    const a = freshUserId("batch");
    const b = freshUserId("batch");
    await expect(appendAuditMany(s.db, [linkUsedEvent(a, 1), linkUsedEvent(b, 2)], Date.now())).rejects.toThrow(/one user/);
    expect(await loadChain(s.db, a)).toEqual([]);
    expect(await loadChain(s.db, b)).toEqual([]);
  });
});

describe("appendAuditMany: security", () => {
  it("concurrent multi-event appends from one stale head all land; each call's entries stay adjacent and in order", async () => {
    const s = services();
    const userId = freshUserId("batch");
    await appendAudit(s.db, linkUsedEvent(userId, 0), Date.now());
    const head = (await chainHeadQuery(s.db, userId).get()) ?? null;
    const calls = await Promise.all(
      Array.from({ length: 8 }, (_, i) => appendAuditMany(s.db, [linkUsedEvent(userId, 100 + i), linkUsedEvent(userId, 200 + i), linkUsedEvent(userId, 300 + i)], Date.now(), { head })),
    );
    for (const [i, rows] of calls.entries()) {
      expect(rows.map((r) => r.targetId)).toEqual([`img_${100 + i}`, `img_${200 + i}`, `img_${300 + i}`]);
      const first = rows[0]?.seq ?? 0;
      expect(rows.map((r) => r.seq)).toEqual([first, first + 1, first + 2]);
    }
    expect(await verifyChain(await loadChain(s.db, userId))).toEqual({ ok: true, entries: 25 });
  });

  it("parallel reads of one generation all answer 200 and leave one unbroken chain with each request's two entries adjacent", async () => {
    const gen = await insertGeneration(alice);
    await insertObjectRow(alice, "output", gen);
    const before = (await auditRows(alice)).length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => api(`/v1/generations/${gen}`, { user: "alice" })));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    const rows = (await auditRows(alice)).slice(before);
    expect(rows).toHaveLength(16);
    for (let i = 0; i < rows.length; i += 2) {
      expect([rows[i]?.action, rows[i + 1]?.action]).toEqual(["generation.viewed", "link.issued"]);
      expect(rows[i + 1]?.requestId).toBe(rows[i]?.requestId);
    }
    expect(await verifyChain(await loadChain(services().db, alice))).toMatchObject({ ok: true });
  });

  it("a session is refused while a tombstone names the user id, even under another subject", async () => {
    const carol = await signIn("carol");
    const s = services();
    const now = Date.now();
    await s.db.insert(tombstones).values({ userId: carol, externalId: "user_other_subject", stage: "started", createdAt: now, updatedAt: now });
    try {
      await expectProblem(await api("/v1/me", { user: "carol" }), 401, "account_deleted");
    } finally {
      await s.db.delete(tombstones).where(eq(tombstones.userId, carol));
    }
    expect((await api("/v1/me", { user: "carol" })).status).toBe(200);
  });

  it("a session whose subject is being deleted (no user row left) is refused and does not recreate the account", async () => {
    const s = services();
    const now = Date.now();
    const gone = freshUserId("batch");
    await s.db.insert(tombstones).values({ userId: gone, externalId: "user_local_bob", stage: "started", createdAt: now, updatedAt: now });
    try {
      await expectProblem(await api("/v1/me", { user: "bob" }), 401, "account_deleted");
      expect(await findUserByExternalId(s, "user_local_bob")).toBeUndefined();
    } finally {
      await s.db.delete(tombstones).where(eq(tombstones.userId, gone));
    }
  });
});

describe("API key authentication: one read, no write on the common path", () => {
  it("last-used time is written on first use and then at most once per minute", async () => {
    const s = services();
    const key = await insertApiKey(alice, ["generations:read"]);
    const lastUsed = async () => (await s.db.select({ at: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, key.id)).get())?.at;
    const t0 = 1_900_000_000_000;
    expect((await authenticateApiKey(s.db, key.secret, t0)).ok).toBe(true);
    expect(await lastUsed()).toBe(t0);
    expect((await authenticateApiKey(s.db, key.secret, t0 + LAST_USED_RESOLUTION_MS - 1)).ok).toBe(true);
    expect(await lastUsed()).toBe(t0);
    expect((await authenticateApiKey(s.db, key.secret, t0 + LAST_USED_RESOLUTION_MS)).ok).toBe(true);
    expect(await lastUsed()).toBe(t0 + LAST_USED_RESOLUTION_MS);
  });

  it("a key whose owner is being deleted is refused (the tombstone is read in the same query)", async () => {
    const s = services();
    const owner = freshUserId("batch");
    const key = await insertApiKey(owner, ["generations:read"]);
    const now = Date.now();
    await s.db.insert(tombstones).values({ userId: owner, externalId: "user_gone", stage: "started", createdAt: now, updatedAt: now });
    expect(await authenticateApiKey(s.db, key.secret, now)).toEqual({ ok: false, reason: "account-being-deleted" });
    await expectProblem(await api("/v1/generations", { token: key.secret }), 401, "account_deleted");
  });
});
