/**
 * Sealer coalescing (worker/services/audit.ts recordAudit): requests of one
 * user in one isolate share one sealing run instead of each starting its own
 * and racing on the unique `(user_id, seq)` index. Nothing is lost, nothing
 * chained twice, and entries are chained in the order they were recorded.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditPending } from "../../worker/db/schema";
import { loadChain, recordAudit, verifyChain } from "../../worker/services/audit";
import { services } from "../helpers";
import { freshUserId, linkUsedEvent } from "./fixtures";

/** Services whose `waitUntil` keeps the sealing tasks, so the test can count and await them. */
function collecting(): { s: ReturnType<typeof services>; tasks: Promise<unknown>[] } {
  const tasks: Promise<unknown>[] = [];
  return { s: services({ waitUntil: (task) => void tasks.push(task) }), tasks };
}

async function pendingOf(userId: string): Promise<number> {
  return (await services().db.select({ n: auditPending.n }).from(auditPending).where(eq(auditPending.userId, userId)).all()).length;
}

describe("audit sealer coalescing: happy", () => {
  it("requests recording while a sealer runs ask it for another pass: one sealing task for eight requests, all chained", async () => {
    const userId = freshUserId("coalesce");
    const { s, tasks } = collecting();
    await recordAudit(s, [linkUsedEvent(userId, 0)], Date.now());
    expect(tasks).toHaveLength(1);
    await Promise.all(Array.from({ length: 7 }, (_, i) => recordAudit(s, [linkUsedEvent(userId, i + 1)], Date.now())));
    expect(tasks).toHaveLength(1);
    await Promise.all(tasks);
    expect(await pendingOf(userId)).toBe(0);
    const chain = await loadChain(services().db, userId);
    expect(await verifyChain(chain)).toEqual({ ok: true, entries: 8 });
    expect(new Set(chain.map((r) => r.targetId)).size).toBe(8);
  });

  it("entries recorded one after another are chained in recorded order by fewer sealing runs than requests", async () => {
    const userId = freshUserId("order");
    const { s, tasks } = collecting();
    for (let i = 0; i < 8; i++) await recordAudit(s, [linkUsedEvent(userId, i)], Date.now());
    expect(tasks.length).toBeLessThan(8);
    await Promise.all(tasks);
    expect(await pendingOf(userId)).toBe(0);
    const chain = await loadChain(services().db, userId);
    expect(chain.map((r) => [r.seq, r.targetId])).toEqual(Array.from({ length: 8 }, (_, i) => [i + 1, `img_${i}`]));
    expect(await verifyChain(chain)).toEqual({ ok: true, entries: 8 });
  });
});
