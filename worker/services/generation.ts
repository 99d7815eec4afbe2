/**
 * Generations (docs/architecture.md): creation with idempotency and credits, the
 * state machine's terminal transitions, and the read model the API serves.
 *
 * States: queued -> submitted -> completed | failed | canceled. Every
 * transition is a conditional UPDATE on the current status, so redelivered
 * messages, duplicate webhooks and a racing cancel can never move a
 * generation twice; a failure or cancel commits its refund in the same D1
 * batch, and the refund is unique per generation in the ledger, so credits
 * are returned exactly once.
 */
import { emitEvent } from "./webhooks/events";
import { and, eq, gt, inArray, isNull, ne, or, sql, type SQL } from "drizzle-orm";
import { generations, ledger, objects, users } from "../db/schema";
import { DomainError } from "../lib/domain-error";
import { sha256Hex } from "../lib/bytes";
import { keysetQuery, type KeysetCursor } from "../lib/cursor";
import { newId } from "../lib/ids";
import { errorText, logger } from "../lib/log";
import type { RequestMeta } from "../lib/request-meta";
import type { FailureCode, GenerationOptions } from "../providers/types";
import { appendAudit, type AuditEvent } from "./audit";
import { lookupHash, openField, sealField } from "./crypto/fields";
import { reserveStatement } from "./credits";
import type { ObjectRow, Services } from "./types";
import { notFoundFor } from "./security-log";
import { deleteObjects } from "./storage";
import { isUniqueViolation } from "../db/unique";

export type GenerationRow = typeof generations.$inferSelect;
export type GenerationStatus = GenerationRow["status"];
export type { ObjectRow };

/** A job not finished by then is failed and refunded by the sweep. */
export const GENERATION_DEADLINE_MS = 20 * 60 * 1000;
const ACTIVE: GenerationStatus[] = ["queued", "submitted"];

export interface CreateGenerationInput extends GenerationOptions {
  motherPhotoId: string;
  fatherPhotoId: string;
}

/** Shown to the user as is: say what happened and that nothing was charged. */
export const FAILURE_MESSAGES: Record<FailureCode, string> = {
  model_error: "The model could not create an image this time. Your credits were refunded; please try again.",
  safety_refusal: "The model's safety filter declined these photos. Your credits were refunded; try other photos.",
  output_flagged: "The result did not pass our content check and was discarded without being stored. Your credits were refunded.",
  invalid_output: "The model returned an image we could not accept. Your credits were refunded; please try again.",
  timeout: "This took too long and was stopped. Your credits were refunded; please try again.",
  input_rejected: "The model could not use these photos (it needs one clear, front-facing face in each). Your credits were refunded.",
  photo_missing: "A parent photo was deleted before the generation started. Your credits were refunded.",
  consent_withdrawn: "Processing stopped because consent was withdrawn. Your credits were refunded.",
  internal: "Something went wrong on our side. Your credits were refunded; please try again.",
};

export type Actor = AuditEvent["actor"];
export const SYSTEM: Actor = { type: "system", id: null };

// ------------------------------------------------------------------ create

const canonicalRequest = (input: CreateGenerationInput): string =>
  JSON.stringify([input.motherPhotoId, input.fatherPhotoId, input.gender, input.ageGroup, input.resemblance, input.images]);

/**
 * Keyed hash (HMAC under LOOKUP_HMAC_KEY) over the canonical request (fixed
 * key order), to spot a reused Idempotency-Key. Not a plain SHA-256: the
 * options have few values, so a plain hash would give them away to anyone
 * holding a copy of D1.
 */
export function requestHash(s: Services, input: CreateGenerationInput): Promise<string> {
  return lookupHash(s.config, "generation-request", canonicalRequest(input));
}

/** Rows written before the keyed hash hold a plain SHA-256 (no "h1." prefix); both compare. */
async function sameRequest(row: GenerationRow, s: Services, input: CreateGenerationInput, keyed: string): Promise<boolean> {
  if (row.requestHash.startsWith("h1.")) return row.requestHash === keyed;
  return row.requestHash === (await sha256Hex(canonicalRequest(input)));
}

function optionsOf(input: CreateGenerationInput): GenerationOptions {
  return { gender: input.gender, ageGroup: input.ageGroup, resemblance: input.resemblance, images: input.images };
}

/** Options are personal (what a person asked for about their child-to-be): sealed under the user's DEK (crypto/fields.ts). */
const optionsRef = (row: Pick<GenerationRow, "id" | "userId">) => ({ table: "generations", column: "options", rowId: row.id, userId: row.userId });

export async function sealOptions(s: Services, row: Pick<GenerationRow, "id" | "userId">, options: GenerationOptions): Promise<string> {
  const sealed = await sealField(s, optionsRef(row), JSON.stringify(options));
  if (sealed === null) throw new Error("no data key to seal generation options");
  return sealed;
}

/** The row's options, from either encoding; throws if they cannot be read (key shredded, or a moved ciphertext). */
export async function parseOptions(s: Services, row: Pick<GenerationRow, "id" | "userId" | "options">): Promise<GenerationOptions> {
  const json = await openField(s, optionsRef(row), row.options);
  if (json === null) throw new Error("generation options unreadable");
  return JSON.parse(json) as GenerationOptions;
}

async function byIdempotencyKey(s: Services, userId: string, key: string): Promise<GenerationRow | undefined> {
  return s.db
    .select()
    .from(generations)
    .where(and(eq(generations.userId, userId), eq(generations.idempotencyKey, key)))
    .get();
}

async function sameRequestOr422(s: Services, row: GenerationRow, input: CreateGenerationInput, hash: string): Promise<GenerationRow> {
  if (!(await sameRequest(row, s, input, hash))) {
    throw new DomainError("duplicate_request", "This Idempotency-Key was already used with a different request body.");
  }
  return row;
}

/** Photos the user owns and that retention has not already scheduled away. */
async function usablePhotos(s: Services, userId: string, ids: string[]): Promise<Set<string>> {
  const rows = await s.db
    .select({ id: objects.id })
    .from(objects)
    .where(
      and(
        eq(objects.userId, userId),
        eq(objects.kind, "photo"),
        inArray(objects.id, ids),
        or(isNull(objects.expiresAt), gt(objects.expiresAt, s.now())),
      ),
    )
    .all();
  return new Set(rows.map((r) => r.id));
}


/**
 * Creates a generation, or returns the one this Idempotency-Key already made.
 * The reservation and the row commit together in one D1 batch: if the
 * balance is short the row is removed in the same transaction, and if a
 * concurrent request with the same key won, the unique index rolls back this
 * whole batch, reservation included. Only then is the submit job enqueued.
 */
export async function createGeneration(
  s: Services,
  p: { userId: string; actor: Actor; input: CreateGenerationInput; idempotencyKey: string; meta: RequestMeta },
): Promise<{ row: GenerationRow; created: boolean }> {
  const { userId, input } = p;
  const hash = await requestHash(s, input);
  const existing = await byIdempotencyKey(s, userId, p.idempotencyKey);
  if (existing) return { row: await sameRequestOr422(s, existing, input, hash), created: false };

  if (input.motherPhotoId === input.fatherPhotoId) {
    throw new DomainError("invalid", "The mother and father photos must be two different photos.", {
      fields: [{ field: "fatherPhotoId", message: "must differ from motherPhotoId" }],
    });
  }
  const owned = await usablePhotos(s, userId, [input.motherPhotoId, input.fatherPhotoId]);
  for (const id of [input.motherPhotoId, input.fatherPhotoId]) {
    if (!owned.has(id)) throw await notFoundFor(s, { table: "objects", id, userId, meta: p.meta });
  }

  const id = newId("gen");
  const now = s.now();
  const cost = s.config.GENERATION_COST;
  try {
    await s.db.batch([
      reserveStatement(s.db, userId, cost, id, now),
      s.db.insert(generations).values({
        id,
        userId,
        motherPhotoId: input.motherPhotoId,
        fatherPhotoId: input.fatherPhotoId,
        options: await sealOptions(s, { id, userId }, optionsOf(input)),
        status: "queued",
        stage: "queued",
        model: s.config.FAL_MODEL,
        cost,
        idempotencyKey: p.idempotencyKey,
        requestHash: hash,
        createdAt: now,
        deadlineAt: now + GENERATION_DEADLINE_MS,
      }),
      // No reservation (balance short): take the row back in the same transaction.
      s.db
        .delete(generations)
        .where(
          and(
            eq(generations.id, id),
            sql`NOT EXISTS (SELECT 1 FROM ${ledger} WHERE ${ledger.reason} = 'reserve' AND ${ledger.reference} = ${id})`,
          ),
        ),
    ]);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }

  const row = await s.db.select().from(generations).where(eq(generations.id, id)).get();
  if (!row) {
    const winner = await byIdempotencyKey(s, userId, p.idempotencyKey);
    if (winner) return { row: await sameRequestOr422(s, winner, input, hash), created: false };
    throw new DomainError("payment_required", `A generation costs ${cost} credit${cost === 1 ? "" : "s"}; your balance is too low.`);
  }

  await appendAudit(
    s.db,
    {
      userId,
      actor: p.actor,
      action: "generation.created",
      target: { type: "generation", id },
      detail: { cost, images: input.images },
      meta: p.meta,
    },
    now,
  );

  try {
    await s.env.JOBS.send({ kind: "generation.submit", generationId: id });
  } catch (err) {
    logger.error("generation.enqueue_failed", { generationId: id, error: errorText(err) });
    await endGeneration(s, id, "failed", "internal");
    throw new DomainError("unavailable", "The generation could not be queued; your credits were refunded. Please retry.", { retryAfter: 30 });
  }
  return { row, created: true };
}

// ------------------------------------------------------------------ transitions

/**
 * Ends an active generation as failed or canceled and refunds it, atomically.
 * Returns the ended row, or null if it was not active any more (someone else ended it first).
 */
export async function endGeneration(
  s: Services,
  id: string,
  to: "failed" | "canceled",
  code: FailureCode | null,
  actor: Actor = SYSTEM,
): Promise<GenerationRow | null> {
  const now = s.now();
  const [ended] = await s.db.batch([
    s.db
      .update(generations)
      .set({
        status: to,
        stage: to,
        errorCode: to === "failed" ? code : null,
        errorMessage: to === "failed" && code ? FAILURE_MESSAGES[code] : null,
        queuePosition: null,
        completedAt: now,
      })
      .where(and(eq(generations.id, id), inArray(generations.status, ACTIVE)))
      .returning(),
    // The refund of credits.refundReservation, made conditional on the
    // generation having ended so both commit or neither does. A query builder:
    // drizzle's D1 batch cannot bind the parameters of raw statements.
    s.db
      .insert(ledger)
      .select(
        s.db
          .select({
            id: sql<string>`${newId("led")}`.as("id"),
            userId: ledger.userId,
            delta: sql<number>`-${ledger.delta}`.as("delta"),
            reason: sql<"refund">`'refund'`.as("reason"),
            reference: ledger.reference,
            createdAt: sql<number>`${now}`.as("created_at"),
          })
          .from(ledger)
          .where(
            and(
              eq(ledger.reason, "reserve"),
              eq(ledger.reference, id),
              sql`EXISTS (SELECT 1 FROM ${generations} WHERE ${generations.id} = ${id} AND ${generations.status} IN ('failed', 'canceled'))`,
            ),
          ),
      )
      .onConflictDoNothing(),
  ]);
  const row = ended[0];
  if (!row) return null;
  await appendAudit(
    s.db,
    {
      userId: row.userId,
      actor,
      action: to === "failed" ? "generation.failed" : "generation.canceled",
      target: { type: "generation", id },
      detail: { reason: code ?? to, refunded: row.cost },
    },
    now,
  );
  await onGenerationFinished(s, row, now);
  if (to === "failed") await emitEvent(s, row.userId, "generation.failed", { generationId: id, status: "failed", errorCode: code });
  return row;
}

/** Marks a submitted generation completed; false if it was ended meanwhile. */
export async function completeGeneration(s: Services, id: string, outputs: number): Promise<GenerationRow | null> {
  const now = s.now();
  const [row] = await s.db
    .update(generations)
    .set({ status: "completed", stage: "completed", queuePosition: null, completedAt: now })
    .where(and(eq(generations.id, id), eq(generations.status, "submitted")))
    .returning();
  if (!row) return null;
  await appendAudit(
    s.db,
    { userId: row.userId, actor: SYSTEM, action: "generation.completed", target: { type: "generation", id }, detail: { outputs } },
    now,
  );
  await onGenerationFinished(s, row, now);
  await emitEvent(s, row.userId, "generation.completed", { generationId: id, status: "completed", outputs });
  return row;
}

/**
 * Retention hook (docs/architecture.md): once a generation has finished, its parent
 * photos expire `keepPhotosDays` after now. With 0 (the default) they are
 * deleted right here, in the step that completes (or ends) the generation;
 * the expiry set first lets the retention sweep finish the job if this
 * deletion fails. A photo that another unfinished generation still needs is
 * left alone; that generation's own finish sets it.
 */
export async function onGenerationFinished(s: Services, row: GenerationRow, finishedAt: number): Promise<void> {
  const photoIds = [row.motherPhotoId, row.fatherPhotoId].filter((x): x is string => Boolean(x));
  if (photoIds.length === 0) return;
  const user = await s.db.select({ keep: users.keepPhotosDays }).from(users).where(eq(users.id, row.userId)).get();
  const keepDays = user?.keep ?? 0;
  const busy = await s.db
    .select({ m: generations.motherPhotoId, f: generations.fatherPhotoId })
    .from(generations)
    .where(
      and(
        eq(generations.userId, row.userId),
        inArray(generations.status, ACTIVE),
        ne(generations.id, row.id),
        or(inArray(generations.motherPhotoId, photoIds), inArray(generations.fatherPhotoId, photoIds)),
      ),
    )
    .all();
  const inUse = new Set(busy.flatMap((b) => [b.m, b.f]));
  const expire = photoIds.filter((id) => !inUse.has(id));
  if (expire.length === 0) return;
  await s.db
    .update(objects)
    .set({ expiresAt: finishedAt + keepDays * 86_400_000 })
    .where(and(eq(objects.userId, row.userId), eq(objects.kind, "photo"), inArray(objects.id, expire)));
  if (keepDays > 0) return;
  try {
    const deleted = await deleteObjects(s, row.userId, expire);
    if (deleted > 0) {
      await appendAudit(
        s.db,
        { userId: row.userId, actor: { type: "system", id: "retention" }, action: "retention.deleted", detail: { rule: "parent-photos", kind: "photo", count: deleted } },
        s.now(),
      );
    }
  } catch (err) {
    logger.error("retention.parent_photos_deferred", { error: errorText(err) });
  }
}

// ------------------------------------------------------------------ reads

/** The owner-scoped generation query, unexecuted, so a route can put it in one D1 batch with its other reads. */
export function generationRowQuery(s: Pick<Services, "db">, userId: string, id: string) {
  return s.db
    .select()
    .from(generations)
    .where(and(eq(generations.id, id), eq(generations.userId, userId)))
    .limit(1);
}

export async function getGenerationRow(s: Services, userId: string, id: string): Promise<GenerationRow | undefined> {
  return generationRowQuery(s, userId, id).get();
}

/** The condition selecting the user's own output images of these generations (non-empty `generationIds`). */
export function ownOutputsOf(userId: string, generationIds: readonly string[]): SQL | undefined {
  return and(eq(objects.userId, userId), eq(objects.kind, "output"), inArray(objects.generationId, [...generationIds]));
}

/** The owner-scoped outputs query (non-empty `generationIds`), unexecuted, for a D1 batch. */
export function outputsQuery(s: Pick<Services, "db">, userId: string, generationIds: readonly string[]) {
  return s.db.select().from(objects).where(ownOutputsOf(userId, generationIds)).orderBy(objects.id);
}

export async function outputsOf(s: Services, userId: string, generationIds: string[]): Promise<ObjectRow[]> {
  if (generationIds.length === 0) return [];
  return outputsQuery(s, userId, generationIds).all();
}

/** A page of the user's generations, newest first, unexecuted (for a D1 batch); (created_at, id) is unique, so pages never skip or repeat a row. */
export function generationPageQuery(s: Pick<Services, "db">, userId: string, limit: number, after: KeysetCursor | undefined) {
  const q = keysetQuery(eq(generations.userId, userId), generations.createdAt, generations.id, after ?? null);
  return s.db.select().from(generations).where(q.where).orderBy(...q.orderBy).limit(limit);
}

/**
 * The outputs of the generations on that same page, in one statement (the
 * page is a subquery), so the page and its images are one D1 batch.
 */
export function generationPageOutputsQuery(s: Pick<Services, "db">, userId: string, limit: number, after: KeysetCursor | undefined) {
  const q = keysetQuery(eq(generations.userId, userId), generations.createdAt, generations.id, after ?? null);
  const page = s.db.select({ id: generations.id }).from(generations).where(q.where).orderBy(...q.orderBy).limit(limit);
  return s.db
    .select()
    .from(objects)
    .where(and(eq(objects.userId, userId), eq(objects.kind, "output"), inArray(objects.generationId, page)))
    .orderBy(objects.id);
}

export interface Progress {
  /** 0..100, an estimate for a progress bar. */
  percent: number;
  stage: string;
  /** Jobs ahead of ours at the provider, when it says. */
  queuePosition: number | null;
  elapsedSeconds: number;
}

/** Rough stage-based progress: the provider reports a queue position, not a percentage. */
export function progressOf(row: GenerationRow, now: number): Progress {
  const end = row.completedAt ?? now;
  const elapsedSeconds = Math.max(0, Math.round((end - row.createdAt) / 1000));
  let percent: number;
  switch (row.stage) {
    case "queued":
      percent = 5;
      break;
    case "submitting":
      percent = 10;
      break;
    case "in_queue":
      percent = row.queuePosition !== null ? Math.max(15, 35 - Math.min(row.queuePosition, 20)) : 25;
      break;
    case "in_progress": {
      const running = row.submittedAt ? (now - row.submittedAt) / 1000 : 0;
      percent = Math.min(85, 40 + Math.round(running * 1.5));
      break;
    }
    case "finalizing":
      percent = 90;
      break;
    default:
      percent = 100;
  }
  return { percent, stage: row.stage, queuePosition: row.queuePosition, elapsedSeconds };
}
