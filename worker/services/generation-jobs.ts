/**
 * The generation pipeline's queue handlers the consumer dispatches to, and the
 * cron sweep that keeps jobs from ever being stuck. Their dependencies (Fal,
 * encrypted storage, image validation) come on `s.pipeline`, built by
 * createServices (./index.ts).
 */
import { and, eq, inArray, lt } from "drizzle-orm";
import { generations } from "../db/schema";
import type { JobHandler } from "./jobs";
import type { ParsedJobMessage } from "../queue/messages";
import type { Services } from "./types";
import { failGeneration, finalizeGeneration, pollGeneration, submitGeneration } from "./generation-pipeline";

type GenerationKind = "generation.submit" | "generation.poll" | "generation.finalize";
type GenerationMessage = Extract<ParsedJobMessage, { kind: GenerationKind }>;

/**
 * Handlers for the consumer's map. A message that reaches the dead-letter
 * queue has exhausted its retries: its generation is failed and refunded.
 */
export function generationHandlers(): Record<GenerationKind | "dev.ping", JobHandler> {
  const run = async (s: Services, msg: ParsedJobMessage, ctx: { deadLetter: boolean }) => {
    if (!isGenerationMessage(msg)) return;
    if (ctx.deadLetter) {
      const row = await s.db.select().from(generations).where(eq(generations.id, msg.generationId)).get();
      if (row) await failGeneration(s, row, "internal");
      return;
    }
    switch (msg.kind) {
      case "generation.submit":
        return submitGeneration(s, msg.generationId);
      case "generation.poll":
        return pollGeneration(s, msg.generationId, msg.attempt);
      case "generation.finalize":
        await finalizeGeneration(s, msg.generationId, null);
        return;
    }
  };
  return { "generation.submit": run, "generation.poll": run, "generation.finalize": run, "dev.ping": devPing };
}

/** Key under which a dev queue ping records when the consumer saw it. */
export const devPingKey = (pingId: string) => `dev/queue-ping/${pingId}`;

/**
 * Development only (bench/pipeline): records when the consumer received a
 * ping, so the benchmark can compare the pipeline's overhead with the bare
 * queue round trip measured the same way. Refused anywhere else.
 */
const devPing: JobHandler = async (s, msg) => {
  if (msg.kind !== "dev.ping" || s.config.ENVIRONMENT !== "development") return;
  await s.env.BUCKET.put(devPingKey(msg.pingId), String(s.now()));
};

function isGenerationMessage(msg: ParsedJobMessage): msg is GenerationMessage {
  return msg.kind === "generation.submit" || msg.kind === "generation.poll" || msg.kind === "generation.finalize";
}

/** A queued generation whose submit message was never seen this long is sent again. */
export const RESUBMIT_AFTER_MS = 2 * 60 * 1000;

/**
 * Cron sweep (docs/architecture.md "never stuck"): fails and refunds every active
 * generation past its deadline, and re-enqueues submits that were lost
 * (submit is a no-op for anything already sent, so a duplicate is harmless).
 */
export async function sweepGenerations(s: Services): Promise<{ timedOut: number; resubmitted: number }> {
  const now = s.now();
  const overdue = await s.db
    .select()
    .from(generations)
    .where(and(inArray(generations.status, ["queued", "submitted"]), lt(generations.deadlineAt, now)))
    .limit(200)
    .all();
  let timedOut = 0;
  for (const row of overdue) if (await failGeneration(s, row, "timeout")) timedOut++;
  const stale = await s.db
    .select({ id: generations.id })
    .from(generations)
    .where(and(eq(generations.status, "queued"), lt(generations.createdAt, now - RESUBMIT_AFTER_MS)))
    .limit(200)
    .all();
  for (const { id } of stale) await s.env.JOBS.send({ kind: "generation.submit", generationId: id });
  return { timedOut, resubmitted: stale.length };
}
