/**
 * Security log: authentication failures, signature failures and 404s on other
 * users' ids, so that probing and enumeration are visible. Holds no tokens or
 * signatures, only the kind, a reason code, the truncated IP, the request id
 * and the request's path with its ids replaced (redactPath).
 */
import { and, desc, eq, gte, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiKeys, exportsTable, generations, objects, securityLog } from "../db/schema";
import { DomainError } from "../lib/domain-error";
import { newId } from "../lib/ids";
import { logger } from "../lib/log";
import type { RequestMeta } from "../lib/request-meta";

export type SecurityEventKind = "auth_failed" | "signature_failed" | "not_found_probe" | "link_refused" | "scope_denied" | "rate_limited";

const ID_SEGMENT = /^[a-z]{2,5}_[0-9A-Za-z]{8,}$/;

/**
 * The path with every id-like segment (`pho_…`, `usr_…`) and every long
 * token (a signed input link) replaced by `:id`. The security log outlives the
 * accounts whose ids a probe names (an attacker's row, a refused link after a
 * deletion), so it keeps the shape of the request, not whose data it aimed at.
 */
export function redactPath(path: string): string {
  return path
    .split("/")
    .map((seg) => (ID_SEGMENT.test(seg) || seg.length > 40 ? ":id" : seg))
    .join("/")
    .slice(0, 200);
}

export async function logSecurityEvent(
  db: Db,
  kind: SecurityEventKind,
  meta: RequestMeta,
  now: number,
  detail: { reason: string; userId?: string | null; path?: string },
): Promise<void> {
  const row = {
    id: newId("sec"),
    at: now,
    kind,
    ipPrefix: meta.ipPrefix,
    requestId: meta.requestId,
    userId: detail.userId ?? null,
    detail: JSON.stringify({ reason: detail.reason, ...(detail.path ? { path: redactPath(detail.path) } : {}) }),
  };
  await db.insert(securityLog).values(row);
  logger.warn("security", { kind, reason: detail.reason, requestId: meta.requestId });
}

/** Tables whose rows belong to one user and are looked up by id from a URL. */
const OWNED = {
  objects: { table: objects, id: objects.id, owner: objects.userId },
  generations: { table: generations, id: generations.id, owner: generations.userId },
  exports: { table: exportsTable, id: exportsTable.id, owner: exportsTable.userId },
  api_keys: { table: apiKeys, id: apiKeys.id, owner: apiKeys.userId },
} as const;
export type OwnedTable = keyof typeof OWNED;

/**
 * Call when a lookup by id scoped to the caller found nothing; throw what it
 * returns. The wire says 404 `not_found` either way, exactly as for an id that
 * never existed, and the answer does the same work in both cases: whether the
 * id exists under another owner is looked up only after the response is sent
 * (`waitUntil`), and then logged as `not_found_probe` so enumeration shows up.
 * Checking before answering made a foreign id measurably slower than a
 * missing one: an existence oracle (issue 18, decision 0008).
 */
export function notFoundFor(
  s: { db: Db; now: () => number; waitUntil: (task: Promise<unknown>) => void },
  where: { table: OwnedTable; id: string; userId: string; meta: RequestMeta; path?: string; reason?: string },
): Promise<DomainError> {
  s.waitUntil(recordProbe(s.db, where, s.now()));
  return Promise.resolve(new DomainError("not_found"));
}

async function recordProbe(
  db: Db,
  where: { table: OwnedTable; id: string; userId: string; meta: RequestMeta; path?: string; reason?: string },
  at: number,
): Promise<void> {
  const t = OWNED[where.table];
  const other = await db
    .select({ owner: t.owner })
    .from(t.table)
    .where(and(eq(t.id, where.id), ne(t.owner, where.userId)))
    .get();
  if (!other) return;
  await logSecurityEvent(db, "not_found_probe", where.meta, at, {
    reason: where.reason ?? where.table,
    userId: where.userId,
    ...(where.path ? { path: where.path } : {}),
  });
}

export interface SecurityCount {
  kind: SecurityEventKind;
  ipPrefix: string | null;
  count: number;
}

/** Recent events grouped by kind and IP prefix, most frequent first (for alerting and tests). */
export async function countSecurityEvents(
  db: Db,
  opts: { since: number; kind?: SecurityEventKind; ipPrefix?: string },
): Promise<SecurityCount[]> {
  const n = sql<number>`count(*)`;
  const rows = await db
    .select({ kind: securityLog.kind, ipPrefix: securityLog.ipPrefix, count: n })
    .from(securityLog)
    .where(
      and(
        gte(securityLog.at, opts.since),
        opts.kind ? eq(securityLog.kind, opts.kind) : undefined,
        opts.ipPrefix ? eq(securityLog.ipPrefix, opts.ipPrefix) : undefined,
      ),
    )
    .groupBy(securityLog.kind, securityLog.ipPrefix)
    .orderBy(desc(n))
    .all();
  return rows.map((r) => ({ kind: r.kind as SecurityEventKind, ipPrefix: r.ipPrefix, count: Number(r.count) }));
}
