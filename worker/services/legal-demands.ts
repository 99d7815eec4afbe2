/**
 * Legal demands (issue 16, item 4): each demand from an authority is a row:
 * type, authority, legal basis, date received; the review decision; exactly
 * which data was produced (the minimum, listed item by item); and the user
 * notification: sent, or deferred with a reason and a review date.
 * /v1/transparency is computed from these rows and nothing else.
 *
 * The affected user's activity log gets the demand when they are notified,
 * not before: an entry written while notification is deferred (a court's
 * non-disclosure order) would itself tell them. The operator log records
 * every step at once.
 */
import { desc, eq } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import { legalDemands, users } from "../db/schema";
import { DomainError } from "../lib/domain-error";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";
import type { Services } from "./types";
import { recordOperatorAction, sendNotice } from "./operator";

export type LegalDemandRow = typeof legalDemands.$inferSelect;
export type DemandType = LegalDemandRow["type"];
export type Decision = LegalDemandRow["decision"];
export const DEMAND_TYPES = ["subpoena", "court_order", "search_warrant", "emergency", "other"] as const satisfies readonly DemandType[];
export const DECISIONS = ["pending", "rejected", "complied", "partially_complied"] as const satisfies readonly Decision[];

export interface NewDemand {
  type: DemandType;
  authority: string;
  legalBasis: string;
  receivedAt: number;
  userId?: string | undefined;
}

export async function recordDemand(s: Services, operator: AuthContext, d: NewDemand, meta: RequestMeta): Promise<LegalDemandRow> {
  if (d.userId && !(await s.db.select({ id: users.id }).from(users).where(eq(users.id, d.userId)).get())) {
    throw new DomainError("invalid", "No such account.", { fields: [{ field: "userId", message: "no account with this id" }] });
  }
  const row: LegalDemandRow = {
    id: newId("lgd"),
    type: d.type,
    authority: d.authority,
    legalBasis: d.legalBasis,
    receivedAt: d.receivedAt,
    userId: d.userId ?? null,
    decision: "pending",
    decisionNote: null,
    decidedAt: null,
    producedData: "[]",
    notification: d.userId ? "pending" : "not_applicable",
    deferReason: null,
    deferReviewAt: null,
    notifiedAt: null,
    createdBy: operator.userId,
    createdAt: s.now(),
  };
  await s.db.insert(legalDemands).values(row);
  await recordOperatorAction(s, { operator, action: "legal_demand.recorded", target: { type: "legal_demand", id: row.id }, reason: `${d.type} from ${d.authority}`, meta });
  return row;
}

export async function listDemands(s: Services): Promise<LegalDemandRow[]> {
  return s.db.select().from(legalDemands).orderBy(desc(legalDemands.receivedAt), desc(legalDemands.id)).limit(200).all();
}

async function findDemand(s: Services, id: string): Promise<LegalDemandRow> {
  const row = await s.db.select().from(legalDemands).where(eq(legalDemands.id, id)).get();
  if (!row) throw new DomainError("not_found", "No such legal demand.");
  return row;
}

export function producedOf(row: LegalDemandRow): string[] {
  const raw = JSON.parse(row.producedData) as unknown;
  return Array.isArray(raw) ? raw.map(String) : [];
}

/** The review decision and exactly what was produced: nothing when rejected, at least one item otherwise. */
export async function decideDemand(
  s: Services,
  operator: AuthContext,
  id: string,
  v: { decision: Exclude<Decision, "pending">; note: string; producedData: string[] },
  meta: RequestMeta,
): Promise<LegalDemandRow> {
  const row = await findDemand(s, id);
  if (row.decision !== "pending") throw new DomainError("conflict", "This demand was already decided.");
  if (v.decision === "rejected" && v.producedData.length > 0) {
    throw new DomainError("invalid", "A rejected demand produces nothing.", { fields: [{ field: "producedData", message: "must be empty when rejected" }] });
  }
  if (v.decision !== "rejected" && v.producedData.length === 0) {
    throw new DomainError("invalid", "List exactly what was produced.", { fields: [{ field: "producedData", message: "list each item produced" }] });
  }
  const at = s.now();
  const next = { decision: v.decision, decisionNote: v.note, decidedAt: at, producedData: JSON.stringify(v.producedData) };
  await s.db.update(legalDemands).set(next).where(eq(legalDemands.id, row.id));
  await recordOperatorAction(s, {
    operator,
    action: "legal_demand.decided",
    target: { type: "legal_demand", id: row.id },
    reason: v.note,
    detail: { decision: v.decision, produced: v.producedData.length },
    meta,
  });
  return { ...row, ...next };
}

/**
 * Tells the user (notice, mail, activity entry with the whole record), or
 * defers it with a reason and a date to review the deferral.
 */
export async function setNotification(
  s: Services,
  operator: AuthContext,
  id: string,
  v: { status: "sent" } | { status: "deferred"; reason: string; reviewAt: number },
  meta: RequestMeta,
): Promise<LegalDemandRow> {
  const row = await findDemand(s, id);
  if (!row.userId) throw new DomainError("conflict", "This demand names no account, so there is no one to notify.");
  if (row.notification === "sent") throw new DomainError("conflict", "The user was already notified.");
  if (v.status === "deferred") {
    if (v.reviewAt <= s.now()) throw new DomainError("invalid", "The review date must be in the future.", { fields: [{ field: "reviewAt", message: "must be in the future" }] });
    await s.db.update(legalDemands).set({ notification: "deferred", deferReason: v.reason, deferReviewAt: v.reviewAt }).where(eq(legalDemands.id, row.id));
    // Operator log only: an entry in the user's own log would notify them.
    await recordOperatorAction(s, {
      operator,
      action: "legal_demand.notification_deferred",
      target: { type: "legal_demand", id: row.id },
      reason: v.reason,
      detail: { reviewAt: new Date(v.reviewAt).toISOString() },
      meta,
    });
    return { ...row, notification: "deferred", deferReason: v.reason, deferReviewAt: v.reviewAt };
  }
  const produced = producedOf(row);
  const at = s.now();
  const decision =
    row.decision === "pending" ? "It is still under review." : row.decision === "rejected" ? "We refused it and produced nothing." : `We produced exactly: ${produced.join("; ")}.`;
  await sendNotice(s, {
    userId: row.userId,
    kind: "legal_demand",
    title: "An authority asked us for your data",
    body: `On ${new Date(row.receivedAt).toISOString().slice(0, 10)} we received a ${row.type.replace("_", " ")} from ${row.authority} (legal basis: ${row.legalBasis}) concerning your account. ${decision}`,
    operatorId: operator.userId,
    reference: { type: "legal_demand", id: row.id },
  });
  await s.db.update(legalDemands).set({ notification: "sent", notifiedAt: at }).where(eq(legalDemands.id, row.id));
  await recordOperatorAction(s, {
    operator,
    action: "legal_demand.user_notified",
    target: { type: "legal_demand", id: row.id },
    userId: row.userId,
    reason: `A ${row.type.replace("_", " ")} from ${row.authority}: ${decision}`,
    meta,
  });
  return { ...row, notification: "sent", notifiedAt: at };
}

export interface TransparencyYear {
  year: number;
  total: number;
  byType: Record<DemandType, number>;
  byOutcome: Record<Decision, number>;
  /** Every (type, outcome) pair that occurred, with its count. */
  counts: { type: DemandType; outcome: Decision; count: number }[];
  accountsAffected: number;
  usersNotified: number;
  notificationsDeferred: number;
}

/** The transparency report: counted from the legal_demands rows, by year received (UTC). */
export async function transparencyReport(s: Services): Promise<TransparencyYear[]> {
  const rows = await s.db
    .select({ type: legalDemands.type, decision: legalDemands.decision, receivedAt: legalDemands.receivedAt, userId: legalDemands.userId, notification: legalDemands.notification })
    .from(legalDemands)
    .all();
  const years = new Map<number, TransparencyYear & { users: Set<string> }>();
  for (const r of rows) {
    const year = new Date(r.receivedAt).getUTCFullYear();
    let y = years.get(year);
    if (!y) {
      y = {
        year,
        total: 0,
        byType: Object.fromEntries(DEMAND_TYPES.map((t) => [t, 0])) as Record<DemandType, number>,
        byOutcome: Object.fromEntries(DECISIONS.map((d) => [d, 0])) as Record<Decision, number>,
        counts: [],
        accountsAffected: 0,
        usersNotified: 0,
        notificationsDeferred: 0,
        users: new Set(),
      };
      years.set(year, y);
    }
    y.total++;
    y.byType[r.type]++;
    y.byOutcome[r.decision]++;
    const pair = y.counts.find((c) => c.type === r.type && c.outcome === r.decision);
    if (pair) pair.count++;
    else y.counts.push({ type: r.type, outcome: r.decision, count: 1 });
    if (r.userId) y.users.add(r.userId);
    if (r.notification === "sent") y.usersNotified++;
    if (r.notification === "deferred") y.notificationsDeferred++;
  }
  return [...years.values()]
    .sort((a, b) => b.year - a.year)
    .map(({ users: set, ...y }) => ({
      ...y,
      accountsAffected: set.size,
      counts: y.counts.sort((a, b) => a.type.localeCompare(b.type) || a.outcome.localeCompare(b.outcome)),
    }));
}
