/**
 * Credits are never lost and jobs are never stuck (issue 4 §1, §8).
 * - Concurrent identical POSTs with one Idempotency-Key make one generation
 *   and one reservation; concurrent POSTs can never overdraw a balance.
 * - The invariant: a few hundred generations driven through the real service
 *   functions and D1, against a randomly failing provider (transient and
 *   permanent errors, refusals, bad outputs, jobs that never finish, duplicate
 *   webhooks, cancels, redeliveries, dead letters), all end terminal, and the
 *   balance equals what was there minus the cost of the completed ones.
 */
import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { generations, ledger, objects } from "../../worker/db/schema";
import { newId } from "../../worker/lib/ids";
import type { ParsedJobMessage } from "../../worker/queue/messages";
import { ProviderError, type ImageProvider, type ModerationVerdict, type ProviderOutcome, type ProviderStatus } from "../../worker/providers/types";
import { appendLedger } from "../../worker/services/credits";
import { GENERATION_DEADLINE_MS, parseOptions, type ObjectRow } from "../../worker/services/generation";
import { generationHandlers, sweepGenerations } from "../../worker/services/generation-jobs";
import { providerCleanupHandlers } from "../../worker/services/provider-cleanup";
import type { JobHandler } from "../../worker/queue/consumer";
import { rng } from "../random";
import { cancelGeneration, finalizeGeneration, type Pipeline, type PipelineStorage } from "../../worker/services/generation-pipeline";
import type { Services } from "../../worker/services";
import { balanceOf } from "../../worker/services/users";
import { services } from "../helpers";
import { FakeFal } from "./fake-fal";
import { consentingUser, createBody, createDriven, drivenServices, parentsFor, postGeneration } from "./fixtures";

describe("credits: idempotency under concurrency", () => {
  it("makes exactly one generation and one reservation for concurrent identical POSTs", async () => {
    (await new FakeFal().init()).use();
    const carol = await consentingUser("carol");
    const parents = await parentsFor(carol);
    const key = crypto.randomUUID();
    const before = await balanceOf(services().db, carol);
    const responses = await Promise.all(Array.from({ length: 8 }, () => postGeneration("carol", createBody(parents), key)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(ids.size).toBe(1);
    const rows = await services().db.select().from(generations).where(and(eq(generations.userId, carol), eq(generations.idempotencyKey, key))).all();
    expect(rows).toHaveLength(1);
    const reservations = await services().db.select().from(ledger).where(and(eq(ledger.userId, carol), eq(ledger.reason, "reserve"))).all();
    expect(reservations).toHaveLength(1);
    expect(await balanceOf(services().db, carol)).toBe(before - 1);
  });

  it("never overdraws: concurrent POSTs with different keys beyond the balance get 402", async () => {
    (await new FakeFal().init()).use();
    const bob = await consentingUser("bob");
    const parents = await parentsFor(bob);
    const balance = await balanceOf(services().db, bob);
    await appendLedger(services().db, { userId: bob, delta: 2 - balance, reason: "adjustment", reference: "test-set-bob-2" }, Date.now());
    const responses = await Promise.all(Array.from({ length: 6 }, () => postGeneration("bob", createBody(parents))));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 402, 402, 402, 402]);
    expect(await balanceOf(services().db, bob)).toBe(0);
    const rows = await services().db.select().from(generations).where(eq(generations.userId, bob)).all();
    expect(rows).toHaveLength(2);
  });
});

// ---------------------------------------------------------------- invariant


type Fate = "ok" | "model_error" | "safety_refusal" | "invalid_output" | "never";

/** A provider that fails the ways Fal can, at random. */
class FlakyProvider implements ImageProvider {
  readonly name = "flaky";
  readonly model = "test/flaky";
  readonly jobs = new Map<string, { fate: Fate; polls: number; images: number }>();
  constructor(private readonly r: () => number) {}

  private transient(p: number, what: string): void {
    if (this.r() < p) throw new ProviderError(`${what}: simulated 503`, { transient: true, status: 503 });
  }

  /** Generations for which Fal stays down until their submit message is dead-lettered. */
  readonly down = new Set<string>();
  private seen = new Set<string>();

  async submit(input: Parameters<ImageProvider["submit"]>[0]) {
    if (!this.seen.has(input.generationId)) {
      this.seen.add(input.generationId);
      if (this.r() < 0.04) this.down.add(input.generationId);
    }
    if (this.down.has(input.generationId)) throw new ProviderError("submit: simulated outage", { transient: true, status: 503 });
    this.transient(0.15, "submit");
    if (this.r() < 0.03) throw new ProviderError("submit: no face", { transient: false, code: "input_rejected", status: 422 });
    const x = this.r();
    const fate: Fate = x < 0.6 ? "ok" : x < 0.7 ? "model_error" : x < 0.8 ? "safety_refusal" : x < 0.9 ? "invalid_output" : "never";
    const requestId = crypto.randomUUID();
    this.jobs.set(requestId, { fate, polls: 0, images: input.options.images });
    return { requestId };
  }

  async status(requestId: string): Promise<ProviderStatus> {
    this.transient(0.1, "status");
    const job = this.jobs.get(requestId);
    if (!job) throw new ProviderError("status: unknown", { transient: false, status: 404 });
    job.polls++;
    if (job.fate === "never" || job.polls < 2) return { state: "in_queue", queuePosition: 3 - job.polls, logs: [] };
    if (job.polls < 3) return { state: "in_progress", logs: [] };
    return { state: "completed", logs: [] };
  }

  outcome(requestId: string): ProviderOutcome {
    const job = this.jobs.get(requestId);
    if (!job) return { ok: false, code: "model_error", detail: "unknown" };
    if (job.fate === "model_error" || job.fate === "safety_refusal") return { ok: false, code: job.fate, detail: "simulated" };
    const kind = job.fate === "invalid_output" ? "bad" : "good";
    return { ok: true, images: Array.from({ length: job.images }, (_, i) => ({ url: `https://v3.fal.media/${kind}/${requestId}/${i}`, width: 300, height: 300, contentType: "image/jpeg" })) };
  }

  async result(requestId: string): Promise<ProviderOutcome> {
    this.transient(0.1, "result");
    return this.outcome(requestId);
  }

  async cancel(): Promise<void> {
    this.transient(0.2, "cancel");
  }

  async deletePayloads(): Promise<void> {
    this.transient(0.2, "deletePayloads");
  }

  /** The output classifier: sometimes down, sometimes flags an output (which must then be refunded, never stored). */
  async moderate(): Promise<ModerationVerdict> {
    this.transient(0.05, "moderate");
    const p = this.r() < 0.05 ? 0.9 : 0.01;
    return { flagged: p >= 0.3, nsfwProbability: p };
  }

  async download(url: string): Promise<Uint8Array> {
    this.transient(0.05, "download");
    return url.includes("/bad/") ? new Uint8Array([0x3c, 0x68, 0x74, 0x6d, 0x6c]) : new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  }

  async verifyWebhook(): Promise<never> {
    throw new Error("not used: webhooks are simulated by calling finalize directly");
  }
}

/** Storage that records rows in D1 (so ownership and idempotency are real) but keeps bytes in memory. */
function memoryStorage(r: () => number): PipelineStorage {
  const bytes = new Map<string, Uint8Array>();
  return {
    async getObject(s, userId, objectId) {
      const row = await s.db.select().from(objects).where(and(eq(objects.id, objectId), eq(objects.userId, userId))).get();
      return row ? { row, bytes: bytes.get(objectId) ?? new Uint8Array([0xff, 0xd8]) } : null;
    },
    async putObject(s, input) {
      if (r() < 0.03) throw new Error("simulated R2 hiccup");
      const row: ObjectRow = {
        id: input.id,
        userId: input.userId,
        kind: input.kind,
        r2Key: `u/${input.userId}/${input.kind}/${input.id}`,
        contentType: input.contentType,
        bytes: input.bytes.length,
        width: input.width,
        height: input.height,
        generationId: input.generationId,
        uploadId: null,
        createdAt: s.now(),
        expiresAt: null,
      };
      await s.db.insert(objects).values(row);
      bytes.set(row.id, input.bytes);
      return row;
    },
    async deleteObjects(s, userId, ids) {
      if (ids.length === 0) return 0;
      const res = await s.db.delete(objects).where(and(eq(objects.userId, userId), inArray(objects.id, ids))).run();
      for (const id of ids) bytes.delete(id);
      return res.meta.changes ?? 0;
    },
    validateImage(b) {
      return b[0] === 0xff && b[1] === 0xd8 ? { ok: true, contentType: "image/jpeg", width: 300, height: 300, bytes: b } : { ok: false, reason: "unsupported_type" };
    },
  };
}

async function insertPhoto(userId: string): Promise<string> {
  const id = newId("pho");
  await services().db.insert(objects).values({ id, userId, kind: "photo", r2Key: `u/${userId}/photo/${id}`, contentType: "image/jpeg", bytes: 2, width: 300, height: 300, createdAt: Date.now() });
  return id;
}

describe("credits: the invariant under random failures", () => {
  it("ends every one of 300 generations terminal with balance = initial - completed x cost", { timeout: 240_000 }, async () => {
    const seed = 20261127;
    const r = rng(seed);
    const userId = await consentingUser("alice");
    await appendLedger(services().db, { userId, delta: 1000, reason: "adjustment", reference: "test-invariant-topup" }, Date.now());
    const initial = await balanceOf(services().db, userId);
    const parents = { motherPhotoId: await insertPhoto(userId), fatherPhotoId: await insertPhoto(userId) };

    let clock = Date.now();
    const { s: base, sent } = drivenServices(() => clock);
    const provider = new FlakyProvider(r);
    const deps: Pipeline = { provider, storage: memoryStorage(r) };
    const s: Services = { ...base, pipeline: deps };
    // The pipeline's handlers plus the payload-deletion retries it queues (services/provider-cleanup.ts).
    const handlers: Partial<Record<ParsedJobMessage["kind"], JobHandler>> = { ...generationHandlers(), ...providerCleanupHandlers() };
    const run = (body: ParsedJobMessage, ctx: { attempts: number; deadLetter: boolean }) => {
      const handler = handlers[body.kind];
      if (!handler) throw new Error(`no handler for ${body.kind}`);
      return handler(s, body, ctx);
    };

    const N = 300;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push((await createDriven(s, userId, parents, { images: 1 + Math.floor(r() * 3) })).id);
    expect(await balanceOf(services().db, userId)).toBe(initial - N);

    // A queue with at-least-once delivery: random order, retries, redeliveries and a dead-letter queue.
    const inbox: { body: ParsedJobMessage; attempts: number }[] = [];
    const drainSent = () => {
      for (const m of sent.splice(0)) inbox.push({ body: m.body as ParsedJobMessage, attempts: 1 });
    };
    drainSent();
    let deadLetters = 0;
    let steps = 0;
    while (inbox.length > 0 && steps < 20_000) {
      steps++;
      clock += 400;
      const msg = inbox.splice(Math.floor(r() * inbox.length), 1)[0];
      if (!msg) break;
      try {
        await run(msg.body, { attempts: msg.attempts, deadLetter: false });
        if (r() < 0.05) inbox.push({ ...msg }); // redelivered after an ack was lost
      } catch {
        if (msg.attempts >= 5) {
          deadLetters++;
          await run(msg.body, { attempts: msg.attempts, deadLetter: true });
        } else inbox.push({ body: msg.body, attempts: msg.attempts + 1 });
      }
      drainSent();

      // Webhooks: verified deliveries for finished jobs, sometimes twice; and user cancels.
      if (r() < 0.15) {
        const id = ids[Math.floor(r() * ids.length)] ?? "";
        const row = await s.db.select().from(generations).where(eq(generations.id, id)).get();
        const job = row?.providerRequestId ? provider.jobs.get(row.providerRequestId) : undefined;
        if (row?.providerRequestId && job && job.fate !== "never") {
          for (let k = r() < 0.3 ? 2 : 1; k > 0; k--) {
            await finalizeGeneration(s, id, provider.outcome(row.providerRequestId)).catch(() => undefined);
          }
        }
      }
      if (r() < 0.02) {
        const victim = await s.db.select().from(generations).where(eq(generations.id, ids[Math.floor(r() * ids.length)] ?? "")).get();
        if (victim) await cancelGeneration(s, victim, { type: "user", id: userId });
      }
    }

    // The cron sweep ends whatever is left (jobs that never finish, broken poll chains).
    clock += GENERATION_DEADLINE_MS + 60_000;
    for (let i = 0; i < 3; i++) {
      await sweepGenerations(s);
      drainSent();
    }

    const rows = await s.db.select().from(generations).where(eq(generations.userId, userId)).all();
    const byStatus = (st: string) => rows.filter((x) => x.status === st);
    const completed = byStatus("completed");
    expect(rows).toHaveLength(N);
    expect(rows.filter((x) => !["completed", "failed", "canceled"].includes(x.status))).toEqual([]);
    // Each kind of ending actually happened, so the test exercised every path.
    expect(completed.length).toBeGreaterThan(50);
    expect(byStatus("canceled").length).toBeGreaterThan(0);
    expect(deadLetters, `seed ${seed}`).toBeGreaterThan(0);
    for (const code of ["model_error", "safety_refusal", "invalid_output", "timeout", "internal"]) {
      expect(byStatus("failed").filter((x) => x.errorCode === code).length, `${code} (seed ${seed})`).toBeGreaterThan(0);
    }
    console.log(JSON.stringify({ seed, steps, deadLetters, completed: completed.length, failed: byStatus("failed").length, canceled: byStatus("canceled").length }));

    // The invariant.
    expect(await balanceOf(services().db, userId)).toBe(initial - completed.length);
    const moves = await s.db.select().from(ledger).where(eq(ledger.userId, userId)).all();
    for (const g of rows) {
      const mine = moves.filter((m) => m.reference === g.id).map((m) => m.reason).sort();
      expect(mine, `${g.id} ${g.status}`).toEqual(g.status === "completed" ? ["reserve"] : ["refund", "reserve"]);
    }
    // Completed ones hold exactly their outputs; ended ones hold none.
    const outs = await s.db.select().from(objects).where(and(eq(objects.userId, userId), eq(objects.kind, "output"))).all();
    for (const g of rows) {
      const n = outs.filter((o) => o.generationId === g.id).length;
      expect(n, `${g.id} ${g.status}`).toBe(g.status === "completed" ? (await parseOptions(s, g)).images : 0);
    }
  });
});
