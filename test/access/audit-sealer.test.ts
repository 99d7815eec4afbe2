/**
 * The audit fast path (docs/decisions/0018): requests record their entries in
 * `audit_pending` before answering and the sealer chains them after the
 * answer. No entry may be lost, none chained twice, each request's entries
 * stay adjacent and in order, and the chain verifies, whoever seals: the
 * request's own `waitUntil`, a reader of the log, or the cron after a Worker
 * died right after answering.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditPending } from "../../worker/db/schema";
import { runSweeps } from "../../worker/scheduled";
import { auditLog } from "../../worker/db/schema";
import { appendAudit, insertPendingAudit, loadChain, sealAudit, verifyChain, type AuditEvent } from "../../worker/services/audit";
import { api, json, services, signIn } from "../helpers";
import { freshUserId, insertGeneration, insertObjectRow, linkUsedEvent } from "./fixtures";


/**
 * What a Worker that died right after answering leaves: recordAudit's durable
 * half (the pending rows), without its after-answer sealing.
 */
const recordThenDie = (events: AuditEvent[]) => insertPendingAudit(services().db, events, Date.now());

async function pendingOf(userId: string): Promise<number> {
  return (await services().db.select({ n: auditPending.n }).from(auditPending).where(eq(auditPending.userId, userId)).all()).length;
}

let dana = "";

beforeAll(async () => {
  dana = await signIn("sealer-dana");
});

describe("audit sealer: happy", () => {
  it("8 concurrent readers of one user: every entry is chained once, each request's two entries adjacent, and the chain verifies", async () => {
    const gen = await insertGeneration(dana);
    await insertObjectRow(dana, "output", gen);
    const before = (await loadChain(services().db, dana)).length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => api(`/v1/generations/${gen}`, { user: "sealer-dana" })));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    const requestIds = answers.map((r) => r.headers.get("x-request-id"));
    expect(new Set(requestIds).size).toBe(8);
    // Every entry is in D1 (recorded or already chained) by the time its answer arrived.
    const db = services().db;
    // One batch is one snapshot: an entry moving from pending to chained is counted once.
    const [chained, pending] = await db.batch([
      db.select({ requestId: auditLog.requestId }).from(auditLog).where(eq(auditLog.userId, dana)),
      db.select({ requestId: auditPending.requestId }).from(auditPending).where(eq(auditPending.userId, dana)),
    ]);
    const present = [...chained, ...pending].map((r) => r.requestId);
    for (const id of requestIds) expect(present.filter((r) => r === id).length).toBe(2);

    const chain = await loadChain(services().db, dana);
    expect(await verifyChain(chain)).toEqual({ ok: true, entries: before + 16 });
    expect(await pendingOf(dana)).toBe(0);
    const added = chain.slice(before);
    expect(new Set(added.map((r) => r.id)).size).toBe(16);
    for (const id of requestIds) {
      const mine = added.filter((r) => r.requestId === id);
      expect(mine.map((r) => r.action)).toEqual(["generation.viewed", "link.issued"]);
      expect((mine[1]?.seq ?? 0) - (mine[0]?.seq ?? 0)).toBe(1);
    }
  });

  it("an entry recorded by a Worker that died after answering is chained by the cron's audit.seal", async () => {
    const userId = freshUserId("seal");
    await appendAudit(services().db, linkUsedEvent(userId, 0), Date.now());
    await recordThenDie([linkUsedEvent(userId, 1), linkUsedEvent(userId, 2)]);
    expect(await pendingOf(userId)).toBe(2);
    expect((await runSweeps(services())).find((r) => r.name === "audit.seal")?.ok).toBe(true);
    expect(await pendingOf(userId)).toBe(0);
    const chain = await loadChain(services().db, userId);
    expect(chain.map((r) => [r.seq, r.targetId])).toEqual([
      [1, "img_0"],
      [2, "img_1"],
      [3, "img_2"],
    ]);
    expect(await verifyChain(chain)).toEqual({ ok: true, entries: 3 });
  });

  it("GET /v1/account/audit shows an entry whose sealing never ran", async () => {
    const userId = await signIn("sealer-erin");
    await recordThenDie([linkUsedEvent(userId, 7)]);
    expect(await pendingOf(userId)).toBeGreaterThan(0);
    const page = await json<{ items: { action: string; target: { id: string } | null }[] }>(await api("/v1/account/audit?limit=100", { user: "sealer-erin" }));
    expect(page.items.some((i) => i.action === "link.used" && i.target?.id === "img_7")).toBe(true);
  });

  it("a synchronous append lands after the entries recorded before it", async () => {
    const userId = freshUserId("seal");
    await recordThenDie([linkUsedEvent(userId, 1), linkUsedEvent(userId, 2)]);
    const row = await appendAudit(services().db, linkUsedEvent(userId, 3), Date.now());
    expect(row.seq).toBe(3);
    expect((await loadChain(services().db, userId)).map((r) => r.targetId)).toEqual(["img_1", "img_2", "img_3"]);
  });
});

describe("audit sealer: races", () => {
  it("8 sealers racing over the same pending entries chain each exactly once, in recorded order", async () => {
    const userId = freshUserId("seal");
    for (let i = 0; i < 30; i += 3) await recordThenDie([linkUsedEvent(userId, i), linkUsedEvent(userId, i + 1), linkUsedEvent(userId, i + 2)]);
    const db = services().db;
    await Promise.all(Array.from({ length: 8 }, (_, i) => sealAudit(db, userId, i % 2 === 0 ? "complete" : "best-effort")));
    expect(await pendingOf(userId)).toBe(0);
    const chain = await loadChain(db, userId);
    expect(chain.map((r) => r.targetId)).toEqual(Array.from({ length: 30 }, (_, i) => `img_${i}`));
    expect(await verifyChain(chain)).toEqual({ ok: true, entries: 30 });
  });

  it("more than one sealing batch (120 entries) is chained completely by a reader", async () => {
    const userId = freshUserId("seal");
    await recordThenDie(Array.from({ length: 120 }, (_, i) => linkUsedEvent(userId, i)));
    const chain = await loadChain(services().db, userId);
    expect(chain.length).toBe(120);
    expect(chain.at(-1)?.targetId).toBe("img_119");
    expect(await verifyChain(chain)).toEqual({ ok: true, entries: 120 });
  });
});
