/**
 * What every operator action leaves behind (issue 16): one row in the
 * operator log, and, when the action concerns an account, an entry in that
 * user's own hash-chained activity log (actor `support`, with the reason),
 * so the user sees it as "Support ... because: ...". Notices to users go
 * through sendNotice: an in-app notice, a mail and an activity entry.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import { olderThan, type KeysetCursor } from "../lib/cursor";
import type { AuthContext } from "../auth/types";
import { notices, operatorLog } from "../db/schema";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";
import { appendAudit, type AuditDetail } from "./audit";
import type { Services } from "./types";
import { resolveRecipient } from "./mail-recipient";

export interface OperatorAction {
  operator: Pick<AuthContext, "userId">;
  /** e.g. "privacy_request.status", "incident.declared". */
  action: string;
  target: { type: string; id: string };
  /** The account concerned, if any: the entry also goes to its activity log. */
  userId?: string | null | undefined;
  /** Shown to the affected user as the reason. */
  reason: string;
  detail?: AuditDetail;
  meta?: RequestMeta | undefined;
}

export async function recordOperatorAction(s: Services, a: OperatorAction): Promise<void> {
  const now = s.now();
  await s.db.insert(operatorLog).values({
    id: newId("opl"),
    at: now,
    operatorId: a.operator.userId,
    action: a.action,
    targetType: a.target.type,
    targetId: a.target.id,
    userId: a.userId ?? null,
    detail: JSON.stringify({ reason: a.reason, ...a.detail }),
  });
  if (a.userId) {
    await appendAudit(
      s.db,
      {
        userId: a.userId,
        actor: { type: "support", id: a.operator.userId },
        action: "operator.action",
        target: a.target,
        detail: { operatorAction: a.action, reason: a.reason, ...a.detail },
        meta: a.meta,
      },
      now,
    );
  }
}

/**
 * A row in the operator log only, for steps whose activity entry the caller
 * writes itself (a user's own decision, or a read recorded as
 * `support.accessed`). `who` is the operator, or the user for their own steps.
 */
export async function recordOperatorLogOnly(s: Services, who: string, action: string, target: { type: string; id: string }, userId: string, detail: AuditDetail): Promise<void> {
  await s.db.insert(operatorLog).values({
    id: newId("opl"),
    at: s.now(),
    operatorId: who,
    action,
    targetType: target.type,
    targetId: target.id,
    userId,
    detail: JSON.stringify(detail),
  });
}

export type OperatorLogRow = typeof operatorLog.$inferSelect;

/**
 * One page of the operator log, newest first by (at, id), and the rows after
 * `before` when given: every row is reachable by following the cursor, none
 * is dropped past the first page (issue 16 item 1, decision 0019).
 */
export async function listOperatorLog(s: Services, limit: number, before: KeysetCursor | null = null): Promise<OperatorLogRow[]> {
  return s.db
    .select()
    .from(operatorLog)
    .where(before ? olderThan(operatorLog.at, operatorLog.id, before) : undefined)
    .orderBy(desc(operatorLog.at), desc(operatorLog.id))
    .limit(limit)
    .all();
}

export type NoticeKind = (typeof notices.$inferSelect)["kind"];

export interface Notice {
  userId: string;
  kind: NoticeKind;
  title: string;
  body: string;
  /** Who sends it (the operator), for the activity entry. */
  operatorId: string;
  reference: { type: string; id: string };
}

/**
 * An in-app notice, a mail to the account's address (if it has one; through
 * the configured mailer, or the local outbox) and a `notice.sent` activity
 * entry. Returns whether a mail went out.
 */
export async function sendNotice(s: Services, n: Notice): Promise<{ mailed: boolean }> {
  const now = s.now();
  const id = newId("ntc");
  await s.db.insert(notices).values({ id, userId: n.userId, kind: n.kind, title: n.title, body: n.body, createdAt: now });
  // The stored address is sealed under the user's key; the resolver opens it (or asks Clerk).
  const found = await resolveRecipient(s, n.userId).catch(() => null);
  let mailed = false;
  if (found?.ok) {
    await s.mailer.send({ to: found.address, subject: `BabyPic: ${n.title}`, text: `${n.body}\n\nYou can also read this notice in the app, under Activity.`, idempotencyKey: id });
    mailed = true;
  }
  await appendAudit(
    s.db,
    {
      userId: n.userId,
      actor: { type: "support", id: n.operatorId },
      action: "notice.sent",
      target: n.reference,
      detail: { notice: id, kind: n.kind, title: n.title, mailed, reason: n.title },
    },
    now,
  );
  return { mailed };
}

export type NoticeRow = typeof notices.$inferSelect;

export async function listNotices(s: Services, userId: string): Promise<NoticeRow[]> {
  return s.db.select().from(notices).where(eq(notices.userId, userId)).orderBy(desc(notices.createdAt), desc(notices.id)).limit(50).all();
}

export async function markNoticesRead(s: Services, userId: string): Promise<void> {
  await s.db.update(notices).set({ readAt: s.now() }).where(and(eq(notices.userId, userId), isNull(notices.readAt)));
}
