/**
 * The generation pipeline's steps, run by the queue consumer and the Fal
 * webhook (docs/architecture.md): submit -> poll (fallback) -> finalize.
 *
 * - submit never resubmits once a provider request id is stored: the row is
 *   re-read and only a `queued` generation without a request id is sent.
 * - poll is the fallback for a lost webhook: it records queue position and
 *   stage, re-schedules itself with a growing delay, and finalizes on
 *   completion. Transient provider errors only delay the next poll; the
 *   deadline (and the sweep) ends anything stuck.
 * - finalize is idempotent: one caller at a time holds a claim on the row,
 *   outputs get ids derived from the generation id and index (a retry skips
 *   what is stored), and the final transition is conditional on the
 *   generation still being `submitted`.
 * Parent photos are decrypted in memory only for the submit call, and no
 * image bytes are ever logged.
 */
import { and, eq, inArray, isNull, ne } from "drizzle-orm";
import { generations, objects } from "../db/schema";
import { sha256Hex } from "../lib/bytes";
import { logger, type LogFields } from "../lib/log";
import { ProviderError, type FailureCode, type ModerationVerdict, type OutputImage, type ProviderOutcome } from "../providers/types";
import { appendAudit } from "./audit";
import { systemReadEvent } from "./audit-reads";
import { hasCurrentConsent } from "./consent";
import { issueInputLink } from "./generation-inputs";
import { deleteProviderPayloads } from "./provider-cleanup";
import { completeGeneration, endGeneration, parseOptions, type Actor, type GenerationRow } from "./generation";
import type { Services } from "./types";

export type { ImageCheck, Pipeline, PipelineStorage } from "./types";

/** Seconds until the next status poll: 5, 10, 20, 40, then every 60. */
export function pollDelaySeconds(attempt: number): number {
  return Math.min(60, 5 * 2 ** Math.min(attempt, 4));
}

async function load(s: Services, id: string): Promise<GenerationRow | undefined> {
  return s.db.select().from(generations).where(eq(generations.id, id)).get();
}

function log(event: string, fields: LogFields): void {
  logger.info(event, fields);
}

/**
 * Provider cleanup: a failed cancel is logged (the deadline ends the job
 * anyway); a failed payload deletion is queued again and shown to the
 * operator (services/provider-cleanup.ts), never only logged.
 */
async function forget(s: Services, requestId: string | null, alsoCancel: boolean): Promise<void> {
  if (!requestId) return;
  if (alsoCancel) {
    try {
      await s.pipeline.provider.cancel(requestId);
    } catch (err) {
      log("generation.cancel_failed", { requestId, error: err instanceof Error ? err.message : "unknown" });
    }
  }
  await deleteProviderPayloads(s, s.pipeline.provider, requestId);
}

/** Outputs an interrupted finalize may have stored: an ended generation keeps none. */
async function dropOutputs(s: Services, row: GenerationRow): Promise<void> {
  const stored = await s.db
    .select({ id: objects.id })
    .from(objects)
    .where(and(eq(objects.userId, row.userId), eq(objects.generationId, row.id), eq(objects.kind, "output")))
    .all();
  if (stored.length) await s.pipeline.storage.deleteObjects(s, row.userId, stored.map((o) => o.id));
}

/** Fails an active generation (refund included) and tells the provider to drop it. */
export async function failGeneration(s: Services, row: GenerationRow, code: FailureCode): Promise<boolean> {
  const ended = await endGeneration(s, row.id, "failed", code);
  if (ended) {
    log("generation.failed", { generationId: row.id, code });
    await dropOutputs(s, row);
    await forget(s, row.providerRequestId, code === "timeout");
  }
  return ended !== null;
}

/** Fails a generation past its deadline as "timeout"; true if it was past. */
async function failIfExpired(s: Services, row: GenerationRow): Promise<boolean> {
  if (s.now() <= row.deadlineAt) return false;
  await failGeneration(s, row, "timeout");
  return true;
}

/** Fails the generation with the code of a provider error retrying cannot fix; true if `err` was one. */
async function failIfPermanent(s: Services, row: GenerationRow, err: unknown): Promise<boolean> {
  if (!(err instanceof ProviderError) || err.transient) return false;
  await failGeneration(s, row, err.code);
  return true;
}

/** The user's cancel: ends an unfinished generation with a refund, keeps no outputs, tells the provider; the ended row, or null if it had already finished. */
export async function cancelGeneration(s: Services, row: GenerationRow, actor: Actor): Promise<GenerationRow | null> {
  const ended = await endGeneration(s, row.id, "canceled", null, actor);
  if (ended) {
    log("generation.canceled", { generationId: row.id });
    await dropOutputs(s, row);
    await forget(s, row.providerRequestId, true);
  }
  return ended;
}

// ------------------------------------------------------------------ submit

export async function submitGeneration(s: Services, generationId: string): Promise<void> {
  const row = await load(s, generationId);
  if (!row || row.status !== "queued" || row.providerRequestId) return;
  if (await failIfExpired(s, row)) return;
  // Withdrawing consent stops processing at once (GDPR Art. 7(3)), even for queued jobs.
  if (!(await hasCurrentConsent(s, row.userId))) {
    await failGeneration(s, row, "consent_withdrawn");
    return;
  }
  const [mother, father] = await Promise.all([
    row.motherPhotoId ? s.pipeline.storage.getObject(s, row.userId, row.motherPhotoId) : null,
    row.fatherPhotoId ? s.pipeline.storage.getObject(s, row.userId, row.fatherPhotoId) : null,
  ]);
  if (!mother || !father) {
    await failGeneration(s, row, "photo_missing");
    return;
  }
  await appendAudit(s.db, systemReadEvent("generation.submit", row.userId, { type: "generation", id: row.id }, { photos: 2 }), s.now());
  await s.db
    .update(generations)
    .set({ stage: "submitting", attempts: row.attempts + 1 })
    .where(and(eq(generations.id, row.id), eq(generations.status, "queued"), isNull(generations.providerRequestId)));

  let requestId: string;
  try {
    ({ requestId } = await s.pipeline.provider.submit({
      generationId: row.id,
      mother: { contentType: mother.row.contentType, bytes: mother.bytes },
      father: { contentType: father.row.contentType, bytes: father.bytes },
      options: await parseOptions(s, row),
      inputUrl: (which) => {
        const objectId = which === "mother" ? row.motherPhotoId : row.fatherPhotoId;
        if (!objectId) throw new Error("parent photo missing");
        return issueInputLink(s, { generationId: row.id, userId: row.userId, objectId });
      },
    }));
  } catch (err) {
    if (await failIfPermanent(s, row, err)) return;
    throw err;
  }

  const [recorded] = await s.db
    .update(generations)
    .set({ providerRequestId: requestId, status: "submitted", stage: "in_queue", submittedAt: s.now() })
    .where(and(eq(generations.id, row.id), eq(generations.status, "queued"), isNull(generations.providerRequestId)))
    .returning({ id: generations.id });
  if (!recorded) {
    // Canceled (and refunded) while the submit was in flight: drop it at Fal too.
    await forget(s, requestId, true);
    return;
  }
  log("generation.submitted", { generationId: row.id, requestId });
  await s.env.JOBS.send({ kind: "generation.poll", generationId: row.id, attempt: 0 }, { delaySeconds: pollDelaySeconds(0) });
}

// ------------------------------------------------------------------ poll

export async function pollGeneration(s: Services, generationId: string, attempt: number): Promise<void> {
  const row = await load(s, generationId);
  if (!row || row.status !== "submitted" || !row.providerRequestId) return;
  if (await failIfExpired(s, row)) return;
  const next = () => s.env.JOBS.send({ kind: "generation.poll", generationId, attempt: attempt + 1 }, { delaySeconds: pollDelaySeconds(attempt + 1) });
  try {
    const status = await s.pipeline.provider.status(row.providerRequestId);
    if (status.state === "completed") {
      // "busy": another finalize holds the claim; poll again in case it gives up.
      if ((await finalizeGeneration(s, generationId, null)) !== "busy") return;
      await next();
      return;
    }
    await s.db
      .update(generations)
      .set({ stage: status.state, queuePosition: status.state === "in_queue" ? status.queuePosition : null })
      .where(and(eq(generations.id, generationId), eq(generations.status, "submitted")));
  } catch (err) {
    if (await failIfPermanent(s, row, err)) return;
    log("generation.poll_deferred", { generationId, attempt, error: err instanceof Error ? err.message : "unknown" });
  }
  await next();
}

// ------------------------------------------------------------------ finalize

/** Deterministic output id: the same generation and index always map to the same object. */
export async function outputObjectId(generationId: string, index: number): Promise<string> {
  return `img_${(await sha256Hex(`output|${generationId}|${index}`)).slice(0, 32)}`;
}

export type FinalizeResult = "completed" | "failed" | "busy" | "noop";

/**
 * Downloads, validates and stores the outputs, then completes the generation.
 * `outcome` comes from a verified webhook; null means ask the provider.
 * A claim on the row (stage `finalizing`) lets only one caller store outputs
 * at a time: a duplicate webhook or a racing poll gets "busy" and leaves it to
 * the first. A transient error releases the claim and is rethrown (queue
 * backoff or Fal's webhook redelivery retries); a crash that leaves the claim
 * behind is ended by the deadline sweep.
 */
export async function finalizeGeneration(s: Services, generationId: string, outcome: ProviderOutcome | null): Promise<FinalizeResult> {
  const row = await load(s, generationId);
  if (!row || row.status !== "submitted" || !row.providerRequestId) return "noop";
  const result = outcome ?? (await s.pipeline.provider.result(row.providerRequestId));
  if (!result.ok) {
    log("generation.provider_failed", { generationId, code: result.code });
    return (await failGeneration(s, row, result.code)) ? "failed" : "noop";
  }

  const [claimed] = await s.db
    .update(generations)
    .set({ stage: "finalizing", queuePosition: null })
    .where(and(eq(generations.id, generationId), eq(generations.status, "submitted"), ne(generations.stage, "finalizing")))
    .returning({ id: generations.id });
  if (!claimed) return "busy";

  try {
    return await storeOutputs(s, row, result.images);
  } catch (err) {
    await s.db
      .update(generations)
      .set({ stage: "in_progress" })
      .where(and(eq(generations.id, generationId), eq(generations.status, "submitted"), eq(generations.stage, "finalizing")));
    throw err;
  }
}

async function storeOutputs(s: Services, row: GenerationRow, all: OutputImage[]): Promise<FinalizeResult> {
  const generationId = row.id;
  const images = all.slice(0, (await parseOptions(s, row)).images);
  const ids = await Promise.all(images.map((_, i) => outputObjectId(generationId, i)));
  const stored = await storedOutputs(s, row.userId, ids);

  const reject = async (code: FailureCode): Promise<FinalizeResult> => {
    await s.pipeline.storage.deleteObjects(s, row.userId, ids);
    return (await failGeneration(s, row, code)) ? "failed" : "noop";
  };

  for (const [i, image] of images.entries()) {
    const id = ids[i];
    if (!id || stored.has(id)) continue;
    let bytes: Uint8Array;
    try {
      bytes = await s.pipeline.provider.download(image.url);
    } catch (err) {
      if (err instanceof ProviderError && !err.transient) {
        log("generation.output_refused", { generationId, index: i, error: err.message });
        return reject("invalid_output");
      }
      throw err;
    }
    const check = await s.pipeline.storage.validateImage(bytes);
    if (!check.ok) {
      log("generation.invalid_output", { generationId, index: i, reason: check.reason });
      return reject("invalid_output");
    }
    // The model flags nothing itself: classify the exact bytes we would keep, before they are stored (decision 0009).
    let verdict: ModerationVerdict;
    try {
      verdict = await s.pipeline.provider.moderate({ contentType: check.contentType, bytes: check.bytes });
    } catch (err) {
      if (err instanceof ProviderError && !err.transient) {
        log("generation.moderation_failed", { generationId, index: i, error: err.message });
        return reject("invalid_output");
      }
      throw err;
    }
    if (verdict.flagged) {
      log("generation.output_flagged", { generationId, index: i, nsfwProbability: Math.round(verdict.nsfwProbability * 1000) / 1000 });
      return reject("output_flagged");
    }
    await s.pipeline.storage.putObject(s, {
      id,
      userId: row.userId,
      kind: "output",
      contentType: check.contentType,
      bytes: check.bytes,
      width: check.width,
      height: check.height,
      generationId,
    });
  }

  const done = await completeGeneration(s, generationId, images.length);
  if (!done) {
    // Ended (canceled) while we were storing: keep nothing.
    await s.pipeline.storage.deleteObjects(s, row.userId, ids);
    return "noop";
  }
  log("generation.completed", { generationId, outputs: images.length });
  await forget(s, row.providerRequestId, false);
  return "completed";
}

async function storedOutputs(s: Services, userId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await s.db
    .select({ id: objects.id })
    .from(objects)
    .where(and(eq(objects.userId, userId), inArray(objects.id, ids)))
    .all();
  return new Set(rows.map((r) => r.id));
}
