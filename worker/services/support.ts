/**
 * Support access (docs/architecture.md): staff with the admin role see a user's
 * metadata inside a support session (support-sessions.ts), never their photos
 * or results here; pictures go only through a session's picture request, which
 * the user's window (setSupportGrant) can allow. Every call lands in the user's own audit log as actor
 * `support` with the reason the staff member gave.
 */
import { and, count, desc, eq, notExists, sql } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import { apiKeys, exportsTable, generations, objects, supportImageRequests, tombstones, users } from "../db/schema";
import type { RequestMeta } from "../lib/request-meta";
import { appendAudit, type AuditDetail, type AuditEvent } from "./audit";
import type { Services } from "./types";
import { recordOperatorLogOnly } from "./operator";
import { balanceOf, type UserRow } from "./users";
import { ownOutputsOf } from "./generation";
import { iso } from "../lib/iso";

/** Longest window a user can grant, in hours. */
export const MAX_GRANT_HOURS = 72;

export type GenerationStatus = (typeof generations.$inferSelect)["status"];
const STATUSES: readonly GenerationStatus[] = ["queued", "submitted", "completed", "failed", "canceled"];

export function supportGrantActive(user: Pick<UserRow, "supportAccessUntil">, now: number): boolean {
  return user.supportAccessUntil !== null && user.supportAccessUntil > now;
}

/**
 * The account support may look at: undefined when it does not exist or is
 * being deleted (a tombstone), so support answers 404 and never shows the
 * facts of an account being erased, nor writes to its log.
 */
export async function findUser(s: Services, userId: string): Promise<UserRow | undefined> {
  return s.db
    .select()
    .from(users)
    .where(and(eq(users.id, userId), notExists(s.db.select({ u: tombstones.userId }).from(tombstones).where(eq(tombstones.userId, users.id)))))
    .get();
}

export interface SupportAccess {
  staff: Pick<AuthContext, "userId">;
  userId: string;
  reason: string;
  /** Shown to the user: "Support viewed <viewed> because: <reason>". */
  viewed: string;
  allowed: boolean;
  meta: RequestMeta;
  detail?: Record<string, string | number | boolean | null>;
}

/** Appends `support.accessed` to the user's (not the staff member's) audit log. */
export async function recordSupportAccess(s: Services, a: SupportAccess): Promise<void> {
  await appendAudit(
    s.db,
    {
      userId: a.userId,
      actor: { type: "support", id: a.staff.userId },
      action: "support.accessed",
      target: { type: "user", id: a.userId },
      detail: { reason: a.reason, viewed: a.viewed, allowed: a.allowed, ...a.detail },
      meta: a.meta,
    },
    s.now(),
  );
}

export interface UserSummary {
  id: string;
  createdAt: string;
  consented: boolean;
  keepPhotosDays: number;
  credits: number;
  supportAccessUntil: string | null;
  counts: {
    photos: number;
    outputs: number;
    exports: number;
    apiKeys: number;
    generations: Record<GenerationStatus, number>;
  };
}

/** Metadata only: counts and states, no email, no images. */
export async function userSummary(s: Services, user: UserRow): Promise<UserSummary> {
  const [objectCounts, genCounts, exportCount, keyCount, credits] = await Promise.all([
    s.db.select({ kind: objects.kind, n: count() }).from(objects).where(eq(objects.userId, user.id)).groupBy(objects.kind).all(),
    s.db.select({ status: generations.status, n: count() }).from(generations).where(eq(generations.userId, user.id)).groupBy(generations.status).all(),
    s.db.select({ n: count() }).from(exportsTable).where(eq(exportsTable.userId, user.id)).get(),
    s.db
      .select({ n: count() })
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, user.id), sql`${apiKeys.revokedAt} IS NULL`))
      .get(),
    balanceOf(s.db, user.id),
  ]);
  const byStatus = Object.fromEntries(STATUSES.map((st) => [st, 0])) as Record<GenerationStatus, number>;
  for (const g of genCounts) byStatus[g.status] = g.n;
  const kindCount = (k: "photo" | "output") => objectCounts.find((o) => o.kind === k)?.n ?? 0;
  return {
    id: user.id,
    createdAt: new Date(user.createdAt).toISOString(),
    consented: user.consentAt !== null,
    keepPhotosDays: user.keepPhotosDays,
    credits,
    supportAccessUntil: user.supportAccessUntil ? new Date(user.supportAccessUntil).toISOString() : null,
    counts: { photos: kindCount("photo"), outputs: kindCount("output"), exports: exportCount?.n ?? 0, apiKeys: keyCount?.n ?? 0, generations: byStatus },
  };
}

export interface GenerationMeta {
  id: string;
  status: GenerationStatus;
  stage: string;
  model: string;
  attempts: number;
  errorCode: string | null;
  createdAt: string;
  submittedAt: string | null;
  completedAt: string | null;
  deadlineAt: string;
  outputs: number;
}


/** Generation states for troubleshooting; no options, photos or outputs. */
export async function generationStates(s: Services, userId: string, limit: number): Promise<GenerationMeta[]> {
  const rows = await s.db
    .select({
      id: generations.id,
      status: generations.status,
      stage: generations.stage,
      model: generations.model,
      attempts: generations.attempts,
      errorCode: generations.errorCode,
      createdAt: generations.createdAt,
      submittedAt: generations.submittedAt,
      completedAt: generations.completedAt,
      deadlineAt: generations.deadlineAt,
    })
    .from(generations)
    .where(eq(generations.userId, userId))
    .orderBy(desc(generations.createdAt), desc(generations.id))
    .limit(limit)
    .all();
  const outputs = await s.db
    .select({ generationId: objects.generationId, n: count() })
    .from(objects)
    .where(ownOutputsOf(userId, rows.length ? rows.map((r) => r.id) : [""]))
    .groupBy(objects.generationId)
    .all();
  return rows.map((r) => ({
    ...r,
    outputs: outputs.find((o) => o.generationId === r.id)?.n ?? 0,
    createdAt: new Date(r.createdAt).toISOString(),
    submittedAt: iso(r.submittedAt),
    completedAt: iso(r.completedAt),
    deadlineAt: new Date(r.deadlineAt).toISOString(),
  }));
}

/**
 * Audits a support grant the user changed themselves: their whole window
 * (here), one support session or one image request (support-sessions.ts).
 */
export async function auditGrantChange(
  s: Services,
  userId: string,
  target: NonNullable<AuditEvent["target"]>,
  detail: AuditDetail,
  meta: RequestMeta,
  now: number,
): Promise<void> {
  await appendAudit(s.db, { userId, actor: { type: "user", id: userId }, action: "support.grant_changed", target, detail, meta }, now);
}

/**
 * Sets (or, with `hours` null, revokes) the user's support grant and audits
 * the change. The window is what allowed engineers' picture requests at once
 * (`decided_via = user_window`, decision 0019): when it closes (revoked now,
 * or a new one opened after the last ran out) the grants made within it are
 * withdrawn, so a later window never revives them. A window that runs out by
 * itself is enforced at read time (services/support-sessions.ts).
 */
export async function setSupportGrant(
  s: Services,
  auth: AuthContext,
  hours: number | null,
  meta: RequestMeta,
): Promise<number | null> {
  const now = s.now();
  const until = hours === null ? null : now + Math.min(Math.max(hours, 1), MAX_GRANT_HOURS) * 3_600_000;
  const before = await s.db.select({ until: users.supportAccessUntil }).from(users).where(eq(users.id, auth.userId)).get();
  const continues = until !== null && before !== undefined && supportGrantActive({ supportAccessUntil: before.until }, now);
  const setWindow = s.db.update(users).set({ supportAccessUntil: until }).where(eq(users.id, auth.userId));
  // A new window never revives an old one's grants: both writes in one batch
  // (one transaction), so no reader sees the new window beside an old grant.
  let withdrawn: { id: string }[] = [];
  if (continues) await setWindow;
  else {
    const withdraw = s.db
      .update(supportImageRequests)
      .set({ status: "withdrawn" })
      .where(and(eq(supportImageRequests.userId, auth.userId), eq(supportImageRequests.status, "approved"), eq(supportImageRequests.decidedVia, "user_window")))
      .returning({ id: supportImageRequests.id });
    [, withdrawn] = await s.db.batch([setWindow, withdraw]);
  }
  const ids = withdrawn.map((w) => w.id).join(",");
  await auditGrantChange(
    s,
    auth.userId,
    { type: "user", id: auth.userId },
    hours === null ? { granted: false, until: null, withdrawn: withdrawn.length } : { granted: true, hours, until: new Date(until ?? now).toISOString(), withdrawn: withdrawn.length },
    meta,
    now,
  );
  await recordOperatorLogOnly(
    s,
    auth.userId,
    hours === null ? "support_window.closed" : "support_window.opened",
    { type: "user", id: auth.userId },
    auth.userId,
    hours === null ? { withdrawn: ids } : { until: new Date(until ?? now).toISOString(), withdrawn: ids },
  );
  return until;
}
