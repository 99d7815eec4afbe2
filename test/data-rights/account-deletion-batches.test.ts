/**
 * Account deletion in bounded batches: one run deletes at most `objectBatch`
 * R2 objects, then hands over to the next account.delete job, so a large
 * account never needs one unbounded invocation. The key is shredded in the
 * first run, before any batch.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { tombstones, users } from "../../worker/db/schema";
import { createServices } from "../../worker/services";
import { userDataKey } from "../../worker/services/crypto/keys";
import { deleteAccount, resumeAccountDeletion } from "../../worker/services/deletion";
import type { JobMessage } from "../../worker/queue/messages";
import { allR2Keys, seedAccount } from "./fixtures";

/** The env with a JOBS producer that records what it is sent (the real consumer would race the test). */
function recordingEnv(sent: JobMessage[]) {
  const jobs = {
    send: async (m: JobMessage) => {
      sent.push(m);
    },
    sendBatch: async (ms: Iterable<MessageSendRequest<JobMessage>>) => {
      for (const m of ms) sent.push(m.body);
    },
  } as unknown as Queue<JobMessage>;
  return { ...env, JOBS: jobs };
}

describe("account deletion: bounded batches", () => {
  it("deletes at most objectBatch objects per run, continues through account.delete jobs, and ends with nothing left", async () => {
    const a = await seedAccount("batches", 31);
    const sent: JobMessage[] = [];
    const s = createServices(recordingEnv(sent));
    const mine = async () => (await allR2Keys()).filter((k) => k.includes(a.userId) && k.startsWith("u/")).length;
    expect(await mine()).toBe(4);

    const first = await deleteAccount(s, a.userId, { source: "user", retryViaQueue: false, objectBatch: 1 });
    expect(first?.status).toBe("pending");
    expect(await userDataKey(createServices(env), a.userId, { create: false })).toBeNull();
    expect(await mine()).toBe(3);
    expect(sent).toEqual([{ kind: "account.delete", userId: a.userId }]);

    let runs = 1;
    let left = 3;
    while (sent.length) {
      const msg = sent.shift();
      if (msg?.kind !== "account.delete") throw new Error("unexpected job");
      const res = await resumeAccountDeletion(s, msg.userId, { source: "queue", objectBatch: 1 });
      runs++;
      const now = await mine();
      expect(left - now).toBeLessThanOrEqual(1);
      left = now;
      if (res?.status === "deleted") break;
      expect(runs).toBeLessThan(10);
    }
    expect(runs).toBe(5);
    expect(sent).toEqual([]);
    expect(await mine()).toBe(0);
    expect(await s.db.select().from(users).where(eq(users.id, a.userId)).get()).toBeUndefined();
    expect(await s.db.select().from(tombstones).where(eq(tombstones.userId, a.userId)).get()).toBeUndefined();
  });

  it("a small account still finishes in the request's own run", async () => {
    const a = await seedAccount("one-run", 32);
    const sent: JobMessage[] = [];
    const res = await deleteAccount(createServices(recordingEnv(sent)), a.userId, { source: "user", retryViaQueue: false });
    expect(res?.status).toBe("deleted");
    expect(sent).toEqual([]);
  });
});
