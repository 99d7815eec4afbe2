/**
 * Support sessions (issue 16 item 1, docs/decisions/0019-support-sessions.md).
 *
 * An operator opens a time-boxed session on one account with a reason and a
 * ticket; account facts (credits, generation states and errors) are readable
 * only while it is open, by the operator who opened it. Pictures are never
 * part of the facts: an engineer asks for one generation's pictures, and sees
 * them only once the user allowed that request (or had opened a window in
 * Settings) or a second operator approved it (two-person rule). Every step
 * leaves a row in the operator log and an entry in the user's activity log.
 */
import { and, asc, desc, eq, exists, gt, inArray, isNull, notExists } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import { generations, objects, supportImageRequests, supportSessions, tombstones, users } from "../db/schema";
import { DomainError } from "../lib/domain-error";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";
import type { Services } from "./types";
import { recordOperatorAction, recordOperatorLogOnly as operatorLogOnly } from "./operator";
import { getObject } from "./storage";
import { isBeingDeleted } from "./tombstones";
import { auditGrantChange, findUser, recordSupportAccess, supportGrantActive } from "./support";

export const DEFAULT_SESSION_MINUTES = 30;
export const MAX_SESSION_MINUTES = 120;

export type SupportSessionRow = typeof supportSessions.$inferSelect;
export type ImageRequestRow = typeof supportImageRequests.$inferSelect;

export function sessionOpen(row: Pick<SupportSessionRow, "endedAt" | "expiresAt">, now: number): boolean {
  return row.endedAt === null && row.expiresAt > now;
}

type Operator = Pick<AuthContext, "userId" | "isEngineer">;

export async function openSession(
  s: Services,
  op: Operator,
  input: { userId: string; reason: string; ticket: string; minutes: number },
  meta: RequestMeta,
): Promise<SupportSessionRow> {
  const user = await findUser(s, input.userId);
  if (!user) throw new DomainError("not_found", "No account with that id.");
  const now = s.now();
  const row: SupportSessionRow = {
    id: newId("sup"),
    userId: user.id,
    operatorId: op.userId,
    reason: input.reason,
    ticket: input.ticket,
    openedAt: now,
    expiresAt: now + input.minutes * 60_000,
    endedAt: null,
    endedBy: null,
  };
  await s.db.insert(supportSessions).values(row);
  await recordOperatorAction(s, {
    operator: op,
    action: "support_session.opened",
    target: { type: "support_session", id: row.id },
    userId: user.id,
    reason: `support session opened for ${input.minutes} minutes (ticket ${input.ticket}): ${input.reason}`,
    detail: { ticket: input.ticket, minutes: input.minutes, until: new Date(row.expiresAt).toISOString() },
    meta,
  });
  return row;
}

/** The session; 404 when unknown or when its account is being deleted (nothing of it is shown or logged then). */
async function sessionById(s: Services, id: string): Promise<SupportSessionRow> {
  const row = await s.db.select().from(supportSessions).where(eq(supportSessions.id, id)).get();
  if (!row || (await isBeingDeleted(s, { userId: row.userId }))) throw new DomainError("not_found", "No such support session.");
  return row;
}

/** The session, if the caller opened it and it is still open; otherwise 403 (404 if unknown). */
export async function ownOpenSession(s: Services, op: Operator, id: string): Promise<SupportSessionRow> {
  const row = await sessionById(s, id);
  if (row.operatorId !== op.userId) throw new DomainError("forbidden", "Only the operator who opened this session can use it.");
  if (!sessionOpen(row, s.now())) throw new DomainError("forbidden", "This support session has ended or expired; open a new one.");
  return row;
}

/** Whether the operator has an open session on the account (for the /v1/support reads). */
export async function hasOpenSession(s: Services, operatorId: string, userId: string): Promise<boolean> {
  const row = await s.db
    .select({ id: supportSessions.id })
    .from(supportSessions)
    .where(and(eq(supportSessions.userId, userId), eq(supportSessions.operatorId, operatorId), isNull(supportSessions.endedAt), gt(supportSessions.expiresAt, s.now())))
    .get();
  return row !== undefined;
}

/** Records a read of account facts: the user's log (support.accessed) and the operator log. */
export async function recordFactsRead(s: Services, op: Operator, session: SupportSessionRow, viewed: string, meta: RequestMeta): Promise<void> {
  await recordSupportAccess(s, { staff: op, userId: session.userId, reason: `${session.reason} (ticket ${session.ticket})`, viewed, allowed: true, meta, detail: { session: session.id } });
  await operatorLogOnly(s, op.userId, "support_session.read", { type: "support_session", id: session.id }, session.userId, { reason: session.reason, viewed });
}

/** Ends the session if it is still open: a conditional update, so of two racing ends one gets 409. */
async function endOnce(s: Services, id: string, now: number, by: "operator" | "user"): Promise<void> {
  const done = await s.db
    .update(supportSessions)
    .set({ endedAt: now, endedBy: by })
    .where(and(eq(supportSessions.id, id), isNull(supportSessions.endedAt), gt(supportSessions.expiresAt, now)))
    .returning({ id: supportSessions.id });
  if (done.length === 0) throw new DomainError("conflict", "This support session has already ended or expired.");
}

export async function endSessionByOperator(s: Services, op: Operator, id: string, meta: RequestMeta): Promise<SupportSessionRow> {
  const row = await sessionById(s, id);
  if (!sessionOpen(row, s.now())) throw new DomainError("conflict", "This support session has already ended or expired.");
  const now = s.now();
  await endOnce(s, id, now, "operator");
  await recordOperatorAction(s, {
    operator: op,
    action: "support_session.ended",
    target: { type: "support_session", id },
    userId: row.userId,
    reason: `support session ended by the operator (ticket ${row.ticket})`,
    detail: { ticket: row.ticket },
    meta,
  });
  return { ...row, endedAt: now, endedBy: "operator" };
}

export async function endSessionByUser(s: Services, userId: string, id: string, meta: RequestMeta): Promise<SupportSessionRow> {
  const row = await sessionById(s, id);
  if (row.userId !== userId) throw new DomainError("not_found", "No such support session.");
  if (!sessionOpen(row, s.now())) throw new DomainError("conflict", "This support session has already ended or expired.");
  const now = s.now();
  await endOnce(s, id, now, "user");
  await auditGrantChange(s, userId, { type: "support_session", id }, { granted: false, until: null, session: id, ticket: row.ticket }, meta, now);
  await operatorLogOnly(s, userId, "support_session.ended_by_user", { type: "support_session", id }, userId, { ticket: row.ticket });
  return { ...row, endedAt: now, endedBy: "user" };
}

export async function listOpenSessions(s: Services): Promise<SupportSessionRow[]> {
  return s.db
    .select()
    .from(supportSessions)
    .where(
      and(
        isNull(supportSessions.endedAt),
        gt(supportSessions.expiresAt, s.now()),
        // Not a session on an account being deleted (its facts are no longer shown).
        notExists(s.db.select({ u: tombstones.userId }).from(tombstones).where(eq(tombstones.userId, supportSessions.userId))),
      ),
    )
    .orderBy(desc(supportSessions.openedAt))
    .limit(100)
    .all();
}

export async function requestsOf(s: Services, sessionIds: readonly string[]): Promise<ImageRequestRow[]> {
  if (sessionIds.length === 0) return [];
  return s.db.select().from(supportImageRequests).where(inArray(supportImageRequests.sessionId, [...sessionIds])).orderBy(asc(supportImageRequests.createdAt)).all();
}

/** The user's open sessions and their image requests (for the banner). */
export async function openSessionsFor(s: Services, userId: string): Promise<{ session: SupportSessionRow; requests: ImageRequestRow[] }[]> {
  const rows = await s.db
    .select()
    .from(supportSessions)
    .where(and(eq(supportSessions.userId, userId), isNull(supportSessions.endedAt), gt(supportSessions.expiresAt, s.now())))
    .orderBy(desc(supportSessions.openedAt))
    .all();
  const reqs = await requestsOf(
    s,
    rows.map((r) => r.id),
  );
  return rows.map((session) => ({ session, requests: reqs.filter((q) => q.sessionId === session.id) }));
}

/**
 * An engineer asks to see one generation's pictures. Granted at once when the
 * user has an open window (Settings), else pending until the user or a second
 * operator decides.
 */
export async function requestImages(s: Services, op: Operator, sessionId: string, input: { generationId: string; reason: string }, meta: RequestMeta): Promise<ImageRequestRow> {
  const session = await ownOpenSession(s, op, sessionId);
  if (!op.isEngineer) throw new DomainError("forbidden", "Seeing a picture needs the engineer role.");
  const gen = await s.db
    .select({ id: generations.id })
    .from(generations)
    .where(and(eq(generations.id, input.generationId), eq(generations.userId, session.userId)))
    .get();
  if (!gen) throw new DomainError("not_found", "This account has no such generation.");
  const user = await findUser(s, session.userId);
  const now = s.now();
  const byWindow = user !== undefined && supportGrantActive(user, now);
  const row: ImageRequestRow = {
    id: newId("sir"),
    sessionId,
    userId: session.userId,
    generationId: gen.id,
    requestedBy: op.userId,
    reason: input.reason,
    createdAt: now,
    status: byWindow ? "approved" : "pending",
    decidedBy: byWindow ? session.userId : null,
    decidedVia: byWindow ? "user_window" : null,
    decidedAt: byWindow ? now : null,
  };
  await s.db.insert(supportImageRequests).values(row);
  await recordOperatorAction(s, {
    operator: op,
    action: "support_image.requested",
    target: { type: "generation", id: gen.id },
    userId: session.userId,
    reason: `asked to see the pictures of generation ${gen.id}${byWindow ? " (allowed by the window you opened in Settings)" : "; you can allow or refuse it"}: ${input.reason}`,
    detail: { request: row.id, session: sessionId, status: row.status },
    meta,
  });
  return row;
}

async function pendingRequest(s: Services, id: string, userId?: string): Promise<{ req: ImageRequestRow; session: SupportSessionRow }> {
  const req = await s.db
    .select()
    .from(supportImageRequests)
    .where(userId ? and(eq(supportImageRequests.id, id), eq(supportImageRequests.userId, userId)) : eq(supportImageRequests.id, id))
    .get();
  if (!req) throw new DomainError("not_found", "No such picture request.");
  const session = await sessionById(s, req.sessionId);
  if (req.status !== "pending") throw new DomainError("conflict", `This picture request is already ${req.status}.`);
  if (!sessionOpen(session, s.now())) throw new DomainError("conflict", "The support session of this request has ended or expired.");
  return { req, session };
}

/**
 * Records a decision only if the request is still pending: one conditional
 * update, not read-then-write, so of a simultaneous approval and refusal
 * exactly one wins and the other gets 409 (and leaves no log entry).
 */
async function decideOnce(s: Services, req: ImageRequestRow, d: Pick<ImageRequestRow, "status" | "decidedBy" | "decidedVia" | "decidedAt">): Promise<void> {
  const sessionStillOpen = exists(
    s.db
      .select({ id: supportSessions.id })
      .from(supportSessions)
      .where(and(eq(supportSessions.id, req.sessionId), isNull(supportSessions.endedAt), gt(supportSessions.expiresAt, s.now()))),
  );
  const done = await s.db
    .update(supportImageRequests)
    .set(d)
    .where(and(eq(supportImageRequests.id, req.id), eq(supportImageRequests.status, "pending"), sessionStillOpen))
    .returning({ id: supportImageRequests.id });
  if (done.length === 0) throw new DomainError("conflict", "This picture request was decided meanwhile, or its session ended.");
}

/** Two-person rule: a different operator approves (never the requester). */
export async function approveByOperator(s: Services, op: Operator, id: string, note: string, meta: RequestMeta): Promise<ImageRequestRow> {
  const { req } = await pendingRequest(s, id);
  if (req.requestedBy === op.userId) throw new DomainError("forbidden", "Two-person rule: a different operator must approve this request.");
  const now = s.now();
  await decideOnce(s, req, { status: "approved", decidedBy: op.userId, decidedVia: "operator", decidedAt: now });
  await recordOperatorAction(s, {
    operator: op,
    action: "support_image.approved",
    target: { type: "generation", id: req.generationId },
    userId: req.userId,
    reason: `a second operator approved showing the pictures of generation ${req.generationId} to support: ${note}`,
    detail: { request: id, requestedBy: req.requestedBy },
    meta,
  });
  return { ...req, status: "approved", decidedBy: op.userId, decidedVia: "operator", decidedAt: now };
}

/** The user allows or refuses one request (their explicit grant for that item). */
export async function decideByUser(s: Services, userId: string, id: string, allow: boolean, meta: RequestMeta): Promise<ImageRequestRow> {
  const { req, session } = await pendingRequest(s, id, userId);
  const now = s.now();
  const status = allow ? "approved" : "refused";
  await decideOnce(s, req, { status, decidedBy: userId, decidedVia: "user", decidedAt: now });
  await auditGrantChange(
    s,
    userId,
    { type: "generation", id: req.generationId },
    allow ? { granted: true, item: req.generationId, until: new Date(session.expiresAt).toISOString(), request: id } : { granted: false, item: req.generationId, until: null, request: id },
    meta,
    now,
  );
  await operatorLogOnly(s, userId, allow ? "support_image.granted_by_user" : "support_image.refused_by_user", { type: "generation", id: req.generationId }, userId, { request: id });
  return { ...req, status, decidedBy: userId, decidedVia: "user", decidedAt: now };
}

/**
 * The bytes of result picture `index` (oldest first) of an approved request: for the engineer who asked, inside the open session only.
 */
export async function imageForRequest(s: Services, op: Operator, id: string, index: number, meta: RequestMeta): Promise<{ bytes: Uint8Array; contentType: string; count: number }> {
  // The request and its user's Settings window in one statement (one snapshot):
  // a window being reopened withdraws the old grants in the same batch
  // (support.ts setSupportGrant), so no read sees the old grant with the new window.
  const row = await s.db
    .select({ req: supportImageRequests, ownerId: users.id, windowUntil: users.supportAccessUntil })
    .from(supportImageRequests)
    .leftJoin(users, eq(users.id, supportImageRequests.userId))
    .where(eq(supportImageRequests.id, id))
    .get();
  if (!row) throw new DomainError("not_found", "No such picture request.");
  const req = row.req;
  const session = await sessionById(s, req.sessionId);
  if (!op.isEngineer) throw new DomainError("forbidden", "Seeing a picture needs the engineer role.");
  if (req.requestedBy !== op.userId) throw new DomainError("forbidden", "Only the engineer who asked can see these pictures.");
  if (req.status === "withdrawn") throw new DomainError("forbidden", "The user closed the window that allowed this request.");
  if (req.status !== "approved") throw new DomainError("forbidden", "Neither the user nor a second operator has approved this request.");
  if (!sessionOpen(session, s.now())) throw new DomainError("forbidden", "This support session has ended or expired.");
  if (req.decidedVia === "user_window") {
    // Allowed by the user's Settings window: only while that window is open.
    if (row.ownerId === null) throw new DomainError("not_found", "No such picture request.");
    if (!supportGrantActive({ supportAccessUntil: row.windowUntil }, s.now())) throw new DomainError("forbidden", "The window the user opened in Settings has closed; ask again.");
  }
  const outputs = await s.db
    .select({ id: objects.id })
    .from(objects)
    .where(and(eq(objects.userId, req.userId), eq(objects.generationId, req.generationId), eq(objects.kind, "output")))
    .orderBy(asc(objects.createdAt), asc(objects.id))
    .all();
  const target = outputs[index];
  if (!target) throw new DomainError("not_found", "This generation has no picture with that number.");
  const obj = await getObject(s, req.userId, target.id);
  if (!obj) throw new DomainError("not_found", "The picture is no longer stored.");
  const viewed = `a picture of generation ${req.generationId}`;
  const via = req.decidedVia === "operator" ? "approved by a second operator" : "you allowed it";
  await recordSupportAccess(s, {
    staff: op,
    userId: req.userId,
    reason: `${req.reason} (${via})`,
    viewed,
    allowed: true,
    meta,
    detail: { request: id, object: target.id },
  });
  // The operator log names the request and the picture's number, never the image id: every operator reads it.
  await operatorLogOnly(s, op.userId, "support_image.viewed", { type: "support_image_request", id }, req.userId, { request: id, picture: index, reason: req.reason, via: req.decidedVia });
  return { bytes: obj.bytes, contentType: obj.row.contentType, count: outputs.length };
}
