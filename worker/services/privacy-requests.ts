/**
 * The privacy inbox (issue 16, item 2): requests from anyone through the
 * public contact form, with a type, a legal deadline, a status and a
 * history. The requester's email and message are kept only while the
 * request is open: closing it erases both (GDPR Art. 5(1)(c) and (e)).
 */
import { and, asc, desc, eq, inArray } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import { generations, privacyRequestEvents, privacyRequests } from "../db/schema";
import { DomainError } from "../lib/domain-error";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";
import { deleteGeneration, type DeletionReceipt } from "./deletion";
import type { Services } from "./types";
import { recordOperatorAction, sendNotice } from "./operator";

export type PrivacyRequestRow = typeof privacyRequests.$inferSelect;
export type PrivacyRequestType = PrivacyRequestRow["type"];
export type PrivacyRequestStatus = PrivacyRequestRow["status"];
export type PrivacyRequestEventRow = typeof privacyRequestEvents.$inferSelect;

export const REQUEST_TYPES = ["question", "access", "deletion", "takedown"] as const satisfies readonly PrivacyRequestType[];
export const REQUEST_STATUSES = ["received", "verifying", "in_progress", "completed", "rejected"] as const satisfies readonly PrivacyRequestStatus[];
const CLOSED: readonly PrivacyRequestStatus[] = ["completed", "rejected"];

/** Requests under the GDPR (Art. 15, 17, and Art. 17 from a person pictured) must be answered within one month (Art. 12(3)). */
export const GDPR_TYPES: readonly PrivacyRequestType[] = ["access", "deletion", "takedown"];

/** The same day of the next month (UTC), or its last day when shorter: "one month" of Art. 12(3). */
export function oneMonthAfter(ms: number): number {
  const d = new Date(ms);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.getTime();
}

export interface NewRequest {
  type: PrivacyRequestType;
  email: string;
  message: string;
  subject?: string | undefined;
}

export async function createPrivacyRequest(s: Services, r: NewRequest): Promise<PrivacyRequestRow> {
  const now = s.now();
  const row: PrivacyRequestRow = {
    id: newId("prq"),
    type: r.type,
    status: "received",
    email: r.email,
    message: r.message,
    subject: r.subject ?? null,
    userId: null,
    createdAt: now,
    dueAt: GDPR_TYPES.includes(r.type) ? oneMonthAfter(now) : null,
    closedAt: null,
  };
  await s.db.batch([
    s.db.insert(privacyRequests).values(row),
    s.db.insert(privacyRequestEvents).values({ id: newId("pre"), requestId: row.id, at: now, actor: "requester", action: "received", note: null }),
  ]);
  return row;
}

export interface RequestWithHistory extends PrivacyRequestRow {
  history: PrivacyRequestEventRow[];
}

/** Open requests first (soonest deadline first), then closed ones, newest first. */
export async function listPrivacyRequests(s: Services, limit: number): Promise<RequestWithHistory[]> {
  const rows = await s.db.select().from(privacyRequests).orderBy(desc(privacyRequests.createdAt), desc(privacyRequests.id)).limit(limit).all();
  const events = rows.length
    ? await s.db
        .select()
        .from(privacyRequestEvents)
        .where(
          inArray(
            privacyRequestEvents.requestId,
            rows.map((r) => r.id),
          ),
        )
        .orderBy(asc(privacyRequestEvents.at), asc(privacyRequestEvents.id))
        .all()
    : [];
  const open = (r: PrivacyRequestRow) => !CLOSED.includes(r.status);
  return rows
    .map((r) => ({ ...r, history: events.filter((e) => e.requestId === r.id) }))
    .sort((a, b) => Number(open(b)) - Number(open(a)) || (open(a) ? (a.dueAt ?? Infinity) - (b.dueAt ?? Infinity) : b.createdAt - a.createdAt));
}

async function openRequest(s: Services, id: string): Promise<PrivacyRequestRow> {
  const row = await s.db.select().from(privacyRequests).where(eq(privacyRequests.id, id)).get();
  if (!row) throw new DomainError("not_found", "No such privacy request.");
  if (CLOSED.includes(row.status)) throw new DomainError("conflict", "This request is closed.");
  return row;
}

/** Moves a request on; closing it erases the requester's email and message. */
export async function setPrivacyRequestStatus(
  s: Services,
  operator: AuthContext,
  id: string,
  status: PrivacyRequestStatus,
  note: string,
  meta: RequestMeta,
): Promise<void> {
  const row = await openRequest(s, id);
  const now = s.now();
  const closing = CLOSED.includes(status);
  await s.db.batch([
    s.db
      .update(privacyRequests)
      .set(closing ? { status, closedAt: now, email: null, message: null } : { status })
      .where(and(eq(privacyRequests.id, row.id), eq(privacyRequests.status, row.status))),
    s.db.insert(privacyRequestEvents).values({ id: newId("pre"), requestId: row.id, at: now, actor: operator.userId, action: status, note }),
  ]);
  await recordOperatorAction(s, {
    operator,
    action: "privacy_request.status",
    target: { type: "privacy_request", id: row.id },
    userId: row.userId,
    reason: `Privacy request ${row.id} (${row.type}) is now ${status}: ${note}`,
    detail: { status },
    meta,
  });
}

/**
 * A verified takedown (a person pictured without consent, GDPR Art. 17):
 * deletes the named generation through the deletion service, tells its
 * owner why (in-app notice and mail), and closes the request.
 */
export async function takedown(
  s: Services,
  operator: AuthContext,
  id: string,
  generationId: string,
  note: string,
  meta: RequestMeta,
): Promise<{ receipt: DeletionReceipt; ownerNotified: boolean; mailed: boolean }> {
  const row = await openRequest(s, id);
  if (row.type !== "takedown") throw new DomainError("conflict", "Only a takedown request can delete a generation.");
  const gen = await s.db.select({ userId: generations.userId }).from(generations).where(eq(generations.id, generationId)).get();
  if (!gen) throw new DomainError("not_found", "No such generation.");
  const reason = `A person pictured asked us to remove it and said they had not agreed to its use (privacy request ${row.id})`;
  const receipt = await deleteGeneration(s, { userId: gen.userId, actor: { type: "support", id: operator.userId }, meta }, generationId);
  if (!receipt) throw new DomainError("not_found", "No such generation.");
  const { mailed } = await sendNotice(s, {
    userId: gen.userId,
    kind: "takedown",
    title: "A picture was removed at the request of a person pictured",
    body:
      `We deleted one of your generated pictures (deletion receipt ${receipt.id}). ${reason}. ` +
      "The law (GDPR Art. 17) gives people pictured the right to have such images erased. Please only use photos of people who agreed.",
    operatorId: operator.userId,
    reference: { type: "privacy_request", id: row.id },
  });
  const now = s.now();
  await s.db.batch([
    s.db.update(privacyRequests).set({ status: "completed", closedAt: now, email: null, message: null, userId: gen.userId }).where(eq(privacyRequests.id, row.id)),
    s.db.insert(privacyRequestEvents).values({ id: newId("pre"), requestId: row.id, at: now, actor: operator.userId, action: "takedown", note: `${note} (receipt ${receipt.id}; owner notified)` }),
  ]);
  await recordOperatorAction(s, {
    operator,
    action: "privacy_request.takedown",
    target: { type: "generation", id: generationId },
    userId: gen.userId,
    reason,
    detail: { request: row.id, receipt: receipt.id },
    meta,
  });
  return { receipt, ownerNotified: true, mailed };
}
