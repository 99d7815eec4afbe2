/**
 * Retention (docs/architecture.md), enforced by the cron trigger. Each rule is a
 * sweep that takes `s.now()` as the clock, so tests move time by passing
 * `services({ now: () => later })`. Numbers come from lib/privacy-facts.ts,
 * the same module `GET /v1/privacy` publishes.
 *
 * Parent photos: when a generation finishes (completed, failed or canceled)
 * the pipeline's hook (generation.ts onGenerationFinished) sets its photos'
 * `expires_at` to finish + keepPhotosDays (0, 7 or 30); this sweep deletes
 * them at that time. As a backstop, a finished generation's photo that has no
 * `expires_at` is judged from the generation itself. Uploads never used by any
 * generation go after 24 hours. No photo is deleted while a queued or
 * submitted generation still needs it.
 */
import { and, eq, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import { exportsTable, generations, objects, securityLog, tombstones, users } from "../db/schema";
import { DAY, RETENTION } from "../lib/privacy-facts";
import { appendAudit } from "./audit";
import type { Services } from "./types";
import { purgeOutbox } from "./mailer";
import { deleteObjects } from "./storage";

/** Most rows one sweep run handles per rule; the next cron run takes the rest. */
export const SWEEP_BATCH = 200;

const SYSTEM = { type: "system", id: "retention" } as const;

function usedBy(statuses: readonly string[]) {
  const list = sql.join(
    statuses.map((st) => sql`${st}`),
    sql`, `,
  );
  return sql`EXISTS (SELECT 1 FROM ${generations} WHERE ${generations.userId} = ${objects.userId}
    AND ${generations.status} IN (${list})
    AND (${generations.motherPhotoId} = ${objects.id} OR ${generations.fatherPhotoId} = ${objects.id}))`;
}

const FINISHED = ["completed", "failed", "canceled"] as const;
const ACTIVE = ["queued", "submitted"] as const;
const ANY = [...ACTIVE, ...FINISHED] as const;

const lastCompletion = sql`(SELECT MAX(COALESCE(${generations.completedAt}, ${generations.createdAt})) FROM ${generations}
  WHERE ${generations.userId} = ${objects.userId} AND ${generations.status} IN ('completed', 'failed', 'canceled')
  AND (${generations.motherPhotoId} = ${objects.id} OR ${generations.fatherPhotoId} = ${objects.id}))`;

type Candidate = { id: string; userId: string };

/** Deletes the objects per owner and appends one `retention.deleted` entry each. */
async function removeByOwner(s: Services, rows: readonly Candidate[], rule: string, kind: string): Promise<number> {
  const byUser = new Map<string, string[]>();
  for (const r of rows) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r.id]);
  let n = 0;
  for (const [userId, ids] of byUser) {
    await deleteObjects(s, userId, ids);
    n += ids.length;
    await appendAudit(s.db, { userId, actor: SYSTEM, action: "retention.deleted", detail: { rule, kind, count: ids.length } }, s.now());
  }
  return n;
}

/**
 * Photos past their time: an explicit `expires_at` (set at upload for unused
 * uploads, and by the finish hook for parent photos), or, without one, a
 * finished generation's photo past finish + keepPhotosDays.
 */
export async function sweepParentPhotos(s: Services): Promise<number> {
  const now = s.now();
  const rows = await s.db
    .select({ id: objects.id, userId: objects.userId, used: sql<number>`${usedBy(ANY)}` })
    .from(objects)
    .innerJoin(users, eq(users.id, objects.userId))
    .where(
      and(
        eq(objects.kind, "photo"),
        sql`NOT ${usedBy(ACTIVE)}`,
        or(
          and(isNotNull(objects.expiresAt), lte(objects.expiresAt, now)),
          and(isNull(objects.expiresAt), usedBy(FINISHED), sql`${lastCompletion} + ${users.keepPhotosDays} * ${DAY} <= ${now}`),
        ),
      ),
    )
    .limit(SWEEP_BATCH)
    .all();
  const parents = rows.filter((r) => Boolean(r.used));
  const unused = rows.filter((r) => !r.used);
  return (await removeByOwner(s, parents, "parent-photos", "photo")) + (await removeByOwner(s, unused, "abandoned-uploads", "photo"));
}

/** Uploads never used by any generation, older than 24 hours. */
export async function sweepAbandonedUploads(s: Services): Promise<number> {
  const cutoff = s.now() - RETENTION.abandonedUploadMs;
  const rows = await s.db
    .select({ id: objects.id, userId: objects.userId })
    .from(objects)
    .where(
      and(
        eq(objects.kind, "photo"),
        isNull(objects.expiresAt),
        lte(objects.createdAt, cutoff),
        sql`NOT ${usedBy(ANY)}`,
      ),
    )
    .limit(SWEEP_BATCH)
    .all();
  return removeByOwner(s, rows, "abandoned-uploads", "photo");
}

/** Exports (any state) past their expiry, with their ZIP objects. */
export async function sweepExpiredExports(s: Services): Promise<number> {
  const now = s.now();
  const rows = await s.db
    .select({ id: exportsTable.id, userId: exportsTable.userId, objectId: exportsTable.objectId })
    .from(exportsTable)
    .where(lte(exportsTable.expiresAt, now))
    .limit(SWEEP_BATCH)
    .all();
  for (const r of rows) {
    if (r.objectId) await deleteObjects(s, r.userId, [r.objectId]);
    await s.db.delete(exportsTable).where(eq(exportsTable.id, r.id));
    await appendAudit(
      s.db,
      { userId: r.userId, actor: SYSTEM, action: "export.deleted", target: { type: "export", id: r.id }, detail: { reason: "expired" } },
      now,
    );
  }
  // Export ZIPs whose row is gone (a build that finished after its export was deleted).
  const strays = await s.db
    .select({ id: objects.id, userId: objects.userId })
    .from(objects)
    .where(
      and(
        eq(objects.kind, "export"),
        lte(objects.createdAt, now - RETENTION.exportTtlMs),
        sql`NOT EXISTS (SELECT 1 FROM ${exportsTable} WHERE ${exportsTable.objectId} = ${objects.id})`,
      ),
    )
    .limit(SWEEP_BATCH)
    .all();
  for (const r of strays) await deleteObjects(s, r.userId, [r.id]);
  return rows.length + strays.length;
}

/**
 * Objects nobody should hold any more: generated images whose generation row
 * is gone (finalize racing a delete), and anything whose account is gone with
 * no deletion in progress (a write racing an account deletion).
 */
export async function sweepOrphans(s: Services): Promise<number> {
  const rows = await s.db
    .select({ id: objects.id, userId: objects.userId })
    .from(objects)
    .where(
      or(
        and(
          eq(objects.kind, "output"),
          isNotNull(objects.generationId),
          sql`NOT EXISTS (SELECT 1 FROM ${generations} WHERE ${generations.id} = ${objects.generationId} AND ${generations.userId} = ${objects.userId})`,
        ),
        and(
          sql`NOT EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${objects.userId})`,
          sql`NOT EXISTS (SELECT 1 FROM ${tombstones} WHERE ${tombstones.userId} = ${objects.userId})`,
        ),
      ),
    )
    .limit(SWEEP_BATCH)
    .all();
  for (const [userId, ids] of groupIds(rows)) await deleteObjects(s, userId, ids);
  return rows.length;
}

export async function sweepLogs(s: Services): Promise<number> {
  const sec = await s.db.delete(securityLog).where(lt(securityLog.at, s.now() - RETENTION.securityLogMs)).run();
  return (sec.meta.changes ?? 0) + (await purgeOutbox(s, RETENTION.outboxTtlMs));
}

function groupIds(rows: readonly Candidate[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) m.set(r.userId, [...(m.get(r.userId) ?? []), r.id]);
  return m;
}

/**
 * Applies a new keepPhotosDays to photos already kept from finished
 * generations (and not needed by a running one): they now expire that many
 * days after their generation finished. Returns how many were re-timed.
 */
export async function applyKeepPhotosSetting(s: Services, userId: string, keepDays: number): Promise<number> {
  const rows = await s.db
    .select({ id: objects.id, last: sql<number>`${lastCompletion}` })
    .from(objects)
    .where(and(eq(objects.userId, userId), eq(objects.kind, "photo"), usedBy(FINISHED), sql`NOT ${usedBy(ACTIVE)}`))
    .all();
  let n = 0;
  for (const r of rows) {
    if (typeof r.last !== "number") continue;
    await s.db
      .update(objects)
      .set({ expiresAt: r.last + keepDays * DAY })
      .where(and(eq(objects.id, r.id), eq(objects.userId, userId)));
    n++;
  }
  return n;
}

/** The retention sweeps in the order the cron runs them. */
export const RETENTION_SWEEPS = [
  { name: "retention.parent-photos", run: sweepParentPhotos },
  { name: "retention.abandoned-uploads", run: sweepAbandonedUploads },
  { name: "retention.exports", run: sweepExpiredExports },
  { name: "retention.orphans", run: sweepOrphans },
  { name: "retention.logs", run: sweepLogs },
] as const;
