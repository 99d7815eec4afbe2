/**
 * The user's activity log (issue 5, docs/architecture.md): GET /v1/account/audit and
 * the per-user hash chain that makes tampering visible.
 */
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "../../worker/db/schema";
import { appendAudit, loadChain, verifyChain, type AuditRow } from "../../worker/services/audit";
import { api, expectProblem, json, services, signedInUsers } from "../helpers";
import type { components } from "../../web/src/lib/api/schema";
import { auditRows, insertApiKey } from "./fixtures";

/** GET /v1/account/audit, as the OpenAPI document declares it. */
type Page = components["schemas"]["AuditPage"];

const signedIn = signedInUsers("alice", "bob");

beforeAll(async () => {
  const s = services();
  // A few events of different kinds so pages have something to walk.
  for (let i = 0; i < 5; i++) {
    await appendAudit(
      s.db,
      { userId: signedIn.alice, actor: { type: "user", id: signedIn.alice }, action: "photo.viewed", target: { type: "photo", id: `pho_${i}` } },
      Date.now(),
    );
  }
});

describe("GET /v1/account/audit: happy", () => {
  it("returns the caller's events newest first with actor, action, target, time, request id, truncated IP and user agent", async () => {
    const res = await api("/v1/account/audit", {
      user: "alice",
      headers: { "cf-connecting-ip": "203.0.113.77", "user-agent": "AuditTest/1.0" },
    });
    expect(res.status).toBe(200);
    const page = await json<Page>(res);
    expect(page.items.length).toBeGreaterThanOrEqual(6);
    const seqs = page.items.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const created = page.items.find((e) => e.action === "account.created");
    expect(created?.actor).toEqual({ type: "user", id: signedIn.alice, reason: null });
    const viewed = page.items.find((e) => e.action === "photo.viewed");
    expect(viewed?.target?.type).toBe("photo");
    expect(viewed?.summary).toBe("You viewed a photo");
    expect(Date.parse(viewed?.at ?? "")).not.toBeNaN();
    for (const e of page.items) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reading the log is itself audited, with request id, /24 prefix and user agent", async () => {
    const res = await api("/v1/account/audit?limit=1", {
      user: "alice",
      headers: { "cf-connecting-ip": "198.51.100.23", "user-agent": "AuditTest/2.0" },
    });
    expect(res.status).toBe(200);
    const rid = res.headers.get("x-request-id");
    const rows = await auditRows(signedIn.alice);
    const last = rows[rows.length - 1];
    expect(last?.action).toBe("audit.viewed");
    expect(last?.ipPrefix).toBe("198.51.100.0/24");
    expect(last?.userAgent).toBe("AuditTest/2.0");
    expect(rid).toMatch(/^req_/);
    expect(last?.requestId).toBe(rid);
    const next = await json<Page>(await api("/v1/account/audit?limit=1", { user: "alice" }));
    expect(next.items[0]?.action).toBe("audit.viewed");
    expect(next.items[0]?.ipPrefix).toBe("198.51.100.0/24");
  });

  it("an IPv6 address is kept as its /48 and a user agent as its first 200 characters, nothing more", async () => {
    const ua = `AuditTest/3.0 ${"x".repeat(300)}TAIL`;
    const res = await api("/v1/account/audit?limit=1", { user: "alice", headers: { "cf-connecting-ip": "2001:db8:abcd:12:3456:789a:bcde:f012", "user-agent": ua } });
    expect(res.status).toBe(200);
    const last = (await auditRows(signedIn.alice)).at(-1);
    expect(last?.action).toBe("audit.viewed");
    expect(last?.ipPrefix).toBe("2001:db8:abcd::/48");
    expect(last?.userAgent).toBe(ua.slice(0, 200));
    expect(JSON.stringify(last)).not.toContain(":3456:");
    expect(JSON.stringify(last)).not.toContain("TAIL");
  });

  it("cursor pagination walks every entry exactly once", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let total = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const page: Page = await json<Page>(await api(`/v1/account/audit${q}`, { user: "alice" }));
      if (total === 0) total = page.items[0]?.seq ?? 0;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    // Each page read appends audit.viewed above the cursor, so the walk covers 1..(first seq seen).
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => total - i));
  });

  it("an API key with account:read can read it, and the actor shows the key", async () => {
    const key = await insertApiKey(signedIn.alice, ["account:read"]);
    const res = await api("/v1/account/audit?limit=3", { token: key.secret });
    expect(res.status).toBe(200);
    const page = await json<Page>(res);
    // The key's own use is logged by the auth middleware before the read.
    expect(page.items[0]?.action).toBe("api_key.used");
    expect(page.items[0]?.actor).toEqual({ type: "api_key", id: key.id, reason: null });
    const rows = await auditRows(signedIn.alice);
    expect(rows[rows.length - 1]?.actorType).toBe("api_key");
    expect(rows[rows.length - 1]?.action).toBe("audit.viewed");
  });
});

describe("GET /v1/account/audit: errors", () => {
  it("no credentials: 401", async () => {
    await expectProblem(await api("/v1/account/audit"), 401, "unauthorized");
  });

  it("an API key without account:read: 403 insufficient_scope", async () => {
    const key = await insertApiKey(signedIn.alice, ["photos:read"]);
    await expectProblem(await api("/v1/account/audit", { token: key.secret }), 403, "insufficient_scope");
  });

  it.each(["garbage", "YXVkaXQ6LTE", "YXVkaXQ6MA", "x".repeat(300)])("bad cursor %s: 400 validation_failed, nothing logged", async (cursor) => {
    const before = (await auditRows(signedIn.alice)).length;
    const body = await expectProblem(await api(`/v1/account/audit?cursor=${cursor}`, { user: "alice" }), 400, "validation_failed");
    expect(JSON.stringify(body["errors"])).toContain("cursor");
    expect((await auditRows(signedIn.alice)).length).toBe(before);
  });

  it("limit out of range: 400", async () => {
    await expectProblem(await api("/v1/account/audit?limit=0", { user: "alice" }), 400, "validation_failed");
    await expectProblem(await api("/v1/account/audit?limit=101", { user: "alice" }), 400, "validation_failed");
  });
});

describe("GET /v1/account/audit: security", () => {
  it("each user sees only their own chain", async () => {
    const page = await json<Page>(await api("/v1/account/audit?limit=100", { user: "bob" }));
    expect(page.items.length).toBeGreaterThan(0);
    const raw = JSON.stringify(page);
    expect(raw).not.toContain(signedIn.alice);
    const bobRows = await auditRows(signedIn.bob);
    expect(page.items.map((e) => e.id).every((id) => bobRows.some((r) => r.id === id))).toBe(true);
  });

  it("a cursor cannot reach into another user's chain", async () => {
    const aliceRows = await auditRows(signedIn.alice);
    const high = (aliceRows[aliceRows.length - 1]?.seq ?? 1) + 1;
    const cursor = btoa(`audit:${high}`).replace(/=+$/, "");
    const page = await json<Page>(await api(`/v1/account/audit?cursor=${cursor}&limit=100`, { user: "bob" }));
    expect(JSON.stringify(page)).not.toContain(signedIn.alice);
  });
});

describe("audit chain: tamper detection (verifyChain)", () => {
  async function freshChain(n: number): Promise<{ userId: string; rows: AuditRow[] }> {
    const userId = `usr_chain_${crypto.randomUUID().replaceAll("-", "")}`;
    const s = services();
    for (let i = 0; i < n; i++) {
      await appendAudit(
        s.db,
        { userId, actor: { type: "user", id: userId }, action: "photo.viewed", target: { type: "photo", id: `pho_${i}` }, detail: { i } },
        1_700_000_000_000 + i,
      );
    }
    return { userId, rows: await loadChain(s.db, userId) };
  }

  it("an untouched chain verifies", async () => {
    const { rows } = await freshChain(5);
    expect(await verifyChain(rows)).toEqual({ ok: true, entries: 5 });
  });

  it("editing any field of one row in D1 is detected at that row", async () => {
    const { userId } = await freshChain(5);
    const db = services().db;
    await db
      .update(auditLog)
      .set({ action: "photo.listed" })
      .where(and(eq(auditLog.userId, userId), eq(auditLog.seq, 3)));
    expect(await verifyChain(await loadChain(db, userId))).toEqual({ ok: false, seq: 3, reason: "hash-mismatch" });
  });

  it("editing a row and recomputing its hash is detected at the next row", async () => {
    const { rows } = await freshChain(5);
    const { entryHashInput } = await import("../../worker/services/audit");
    const { sha256Hex } = await import("../../worker/lib/bytes");
    const forged = rows.map((r) => ({ ...r }));
    const target = forged[1];
    if (!target) throw new Error("chain too short");
    target.ipPrefix = "192.0.2.0/24";
    const { id: _id, hash: _hash, ...rest } = target;
    target.hash = await sha256Hex(entryHashInput(rest));
    expect(await verifyChain(forged)).toEqual({ ok: false, seq: 3, reason: "broken-link" });
  });

  it("deleting one row in D1 is detected", async () => {
    const { userId } = await freshChain(5);
    const db = services().db;
    await db.delete(auditLog).where(and(eq(auditLog.userId, userId), eq(auditLog.seq, 2)));
    expect(await verifyChain(await loadChain(db, userId))).toEqual({ ok: false, seq: 3, reason: "gap" });
  });

  it("deleting a row and renumbering the rest is detected", async () => {
    const { rows } = await freshChain(5);
    const renumbered = rows.filter((r) => r.seq !== 2).map((r, i) => ({ ...r, seq: i + 1 }));
    const result = await verifyChain(renumbered);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.seq).toBe(2);
  });

  it("reordering two rows (swapping their seq in D1) is detected", async () => {
    const { userId } = await freshChain(5);
    const db = services().db;
    const where = (seq: number) => and(eq(auditLog.userId, userId), eq(auditLog.seq, seq));
    await db.update(auditLog).set({ seq: 1000 }).where(where(2));
    await db.update(auditLog).set({ seq: 2 }).where(where(4));
    await db.update(auditLog).set({ seq: 4 }).where(where(1000));
    const result = await verifyChain(await loadChain(db, userId));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.seq).toBe(2);
  });

  it("dropping the newest row is not a break (truncation is caught by comparing the last hash shown to the user)", async () => {
    const { rows } = await freshChain(3);
    const result = await verifyChain(rows.slice(0, 2));
    expect(result).toEqual({ ok: true, entries: 2 });
    expect(rows[2]?.prevHash).toBe(rows[1]?.hash);
  });
});

describe("audit chain: concurrency", () => {
  it("concurrent appends for one user all land, in one unbroken chain", async () => {
    const s = services();
    const userId = `usr_conc_${crypto.randomUUID().replaceAll("-", "")}`;
    const rows = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        appendAudit(s.db, { userId, actor: { type: "user", id: userId }, action: "link.used", target: { type: "object", id: `img_${i}` } }, Date.now()),
      ),
    );
    expect(new Set(rows.map((r) => r.seq)).size).toBe(16);
    expect(await verifyChain(await loadChain(s.db, userId))).toEqual({ ok: true, entries: 16 });
  });
});
