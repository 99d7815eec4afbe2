/**
 * Incidents (issue 16, item 3): a personal-data breach is declared with its
 * time window, the kinds of data concerned and how affected users are found
 * (audit actions inside the window: every access to a user's data is in
 * their audit log, docs/audit-log.md). The 72-hour clock of GDPR Art. 33(1)
 * runs from awareness until the supervisory authority is notified; affected
 * users get a notice and a mail saying what of theirs was accessed
 * (Art. 34); the post-mortem is published at /incidents/<slug>.
 */
import { and, asc, desc, eq, gte, inArray, lte } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import { auditLog, incidents } from "../db/schema";
import { sealPendingAudit } from "./audit";
import { DomainError } from "../lib/domain-error";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";
import { AUDIT_ACTIONS, type AuditAction } from "./audit";
import type { Services } from "./types";
import { recordOperatorAction, sendNotice } from "./operator";
import { iso } from "../lib/iso";

/** GDPR Art. 33(1): notify the supervisory authority within 72 hours of becoming aware. */
export const NOTIFY_AUTHORITY_MS = 72 * 3_600_000;

export type IncidentRow = typeof incidents.$inferSelect;

export interface Finder {
  /** Users with any of these audit actions inside the window are affected. */
  actions: AuditAction[];
}

export interface NewIncident {
  title: string;
  summary: string;
  awareAt: number;
  windowStart: number;
  windowEnd: number;
  dataKinds: string[];
  finder: Finder;
}

export function slugify(title: string, at: number): string {
  const base = title
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${new Date(at).toISOString().slice(0, 10)}-${base || "incident"}`;
}

/** The 72-hour clock: when it ends, and whether it is still running. */
export function incidentClock(row: Pick<IncidentRow, "awareAt" | "authorityNotifiedAt">, now: number) {
  const deadlineAt = row.awareAt + NOTIFY_AUTHORITY_MS;
  return { deadlineAt, running: row.authorityNotifiedAt === null, remainingMs: deadlineAt - now };
}

export async function declareIncident(s: Services, operator: AuthContext, input: NewIncident, meta: RequestMeta): Promise<IncidentRow> {
  if (input.windowEnd < input.windowStart) throw new DomainError("invalid", "The window ends before it starts.", { fields: [{ field: "windowEnd", message: "must not be before windowStart" }] });
  const now = s.now();
  let slug = slugify(input.title, input.awareAt);
  for (let n = 2; await s.db.select({ id: incidents.id }).from(incidents).where(eq(incidents.slug, slug)).get(); n++) slug = `${slugify(input.title, input.awareAt)}-${n}`;
  const row: IncidentRow = {
    id: newId("inc"),
    slug,
    title: input.title,
    summary: input.summary,
    awareAt: input.awareAt,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
    dataKinds: JSON.stringify(input.dataKinds),
    finder: JSON.stringify(input.finder),
    affectedUsers: null,
    authorityNotifiedAt: null,
    usersNotifiedAt: null,
    postMortem: null,
    publishedAt: null,
    createdBy: operator.userId,
    createdAt: now,
  };
  await s.db.insert(incidents).values(row);
  await recordOperatorAction(s, { operator, action: "incident.declared", target: { type: "incident", id: row.id }, reason: input.title, meta });
  return row;
}

export async function listIncidents(s: Services): Promise<IncidentRow[]> {
  return s.db.select().from(incidents).orderBy(desc(incidents.awareAt)).limit(100).all();
}

async function findIncident(s: Services, id: string): Promise<IncidentRow> {
  const row = await s.db.select().from(incidents).where(eq(incidents.id, id)).get();
  if (!row) throw new DomainError("not_found", "No such incident.");
  return row;
}

export function parseFinder(row: IncidentRow): Finder {
  const raw = JSON.parse(row.finder) as { actions?: unknown };
  const actions = Array.isArray(raw.actions) ? raw.actions.filter((a): a is AuditAction => (AUDIT_ACTIONS as readonly string[]).includes(String(a))) : [];
  return { actions };
}

export function parseDataKinds(row: IncidentRow): string[] {
  const raw = JSON.parse(row.dataKinds) as unknown;
  return Array.isArray(raw) ? raw.map(String) : [];
}

/** Per affected user: the entries of the window the finder matches, i.e. what of theirs was accessed. */
export async function affectedUsers(s: Services, row: IncidentRow): Promise<Map<string, { action: string; targetType: string | null; targetId: string | null; at: number }[]>> {
  const { actions } = parseFinder(row);
  const byUser = new Map<string, { action: string; targetType: string | null; targetId: string | null; at: number }[]>();
  if (actions.length === 0) return byUser;
  // Entries requests recorded but have not chained yet count too (docs/decisions/0018).
  await sealPendingAudit(s);
  const rows = await s.db
    .select({ userId: auditLog.userId, action: auditLog.action, targetType: auditLog.targetType, targetId: auditLog.targetId, at: auditLog.at })
    .from(auditLog)
    .where(and(gte(auditLog.at, row.windowStart), lte(auditLog.at, row.windowEnd), inArray(auditLog.action, actions)))
    .orderBy(asc(auditLog.at))
    .all();
  for (const r of rows) {
    const list = byUser.get(r.userId) ?? [];
    list.push({ action: r.action, targetType: r.targetType, targetId: r.targetId, at: r.at });
    byUser.set(r.userId, list);
  }
  return byUser;
}


/** The notice text: the incident, the data kinds, and exactly which of the user's items were touched. */
export function incidentNoticeBody(row: IncidentRow, entries: { action: string; targetType: string | null; targetId: string | null }[], appOrigin: string): string {
  const items = new Map<string, number>();
  for (const e of entries) {
    const key = e.targetType && e.targetId ? `${e.targetType} ${e.targetId}` : e.action;
    items.set(key, (items.get(key) ?? 0) + 1);
  }
  const list = [...items].map(([k, n]) => `${k}${n > 1 ? ` (${n} times)` : ""}`);
  return (
    `${row.summary} Between ${iso(row.windowStart)} and ${iso(row.windowEnd)} an unauthorised party could access ${parseDataKinds(row).join(", ")}. ` +
    `Of yours, these were accessed: ${list.slice(0, 50).join("; ")}${list.length > 50 ? `; and ${list.length - 50} more` : ""}. ` +
    `What happened and what we changed: ${appOrigin}/incidents/${row.slug}`
  );
}

/** Notifies every affected user once (notice, mail, activity entry); returns how many. */
export async function notifyAffectedUsers(s: Services, operator: AuthContext, id: string, meta: RequestMeta): Promise<{ notified: number; mailed: number }> {
  const row = await findIncident(s, id);
  if (row.usersNotifiedAt !== null) throw new DomainError("conflict", "The affected users were already notified.");
  const users = await affectedUsers(s, row);
  let mailed = 0;
  for (const [userId, entries] of users) {
    const r = await sendNotice(s, {
      userId,
      kind: "incident",
      title: `Security incident: ${row.title}`,
      body: incidentNoticeBody(row, entries, s.config.APP_ORIGIN),
      operatorId: operator.userId,
      reference: { type: "incident", id: row.id },
    });
    if (r.mailed) mailed++;
  }
  await s.db.update(incidents).set({ usersNotifiedAt: s.now(), affectedUsers: users.size }).where(eq(incidents.id, row.id));
  await recordOperatorAction(s, { operator, action: "incident.users_notified", target: { type: "incident", id: row.id }, reason: row.title, detail: { notified: users.size, mailed }, meta });
  return { notified: users.size, mailed };
}

export async function markAuthorityNotified(s: Services, operator: AuthContext, id: string, note: string, meta: RequestMeta): Promise<IncidentRow> {
  const row = await findIncident(s, id);
  if (row.authorityNotifiedAt !== null) throw new DomainError("conflict", "The authority notification is already recorded.");
  const at = s.now();
  await s.db.update(incidents).set({ authorityNotifiedAt: at }).where(eq(incidents.id, row.id));
  await recordOperatorAction(s, { operator, action: "incident.authority_notified", target: { type: "incident", id: row.id }, reason: note, detail: { late: at > row.awareAt + NOTIFY_AUTHORITY_MS }, meta });
  return { ...row, authorityNotifiedAt: at };
}

export async function publishPostMortem(s: Services, operator: AuthContext, id: string, postMortem: string, meta: RequestMeta): Promise<IncidentRow> {
  const row = await findIncident(s, id);
  const at = s.now();
  await s.db.update(incidents).set({ postMortem, publishedAt: row.publishedAt ?? at }).where(eq(incidents.id, row.id));
  await recordOperatorAction(s, { operator, action: "incident.published", target: { type: "incident", id: row.id }, reason: row.title, meta });
  return { ...row, postMortem, publishedAt: row.publishedAt ?? at };
}

export async function publishedIncident(s: Services, slug: string): Promise<IncidentRow | undefined> {
  const row = await s.db.select().from(incidents).where(eq(incidents.slug, slug)).get();
  return row && row.publishedAt !== null ? row : undefined;
}
