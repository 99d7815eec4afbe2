/**
 * Per-user, hash-chained audit log (docs/architecture.md). Each entry stores the hash
 * of the previous one, and its own hash covers every field plus that link, so
 * editing, inserting or removing an entry breaks the chain from there on.
 * Never put tokens, signatures, keys or image bytes in `detail`.
 */
import { and, asc, desc, eq, lt } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";
import { sha256Hex } from "../lib/bytes";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";
import { openField, sealField, servicesOf } from "./crypto/fields";
import type { Services } from "./index";
import { isUniqueViolation } from "../db/unique";

export const GENESIS_HASH = "0".repeat(64);

export const AUDIT_ACTIONS = [
  "account.created",
  "account.viewed",
  "account.deleted",
  "consent.given",
  "consent.withdrawn",
  "settings.changed",
  "photo.uploaded",
  "photo.listed",
  "photo.viewed",
  "photo.deleted",
  "generation.created",
  "generation.listed",
  "generation.viewed",
  "generation.completed",
  "generation.failed",
  "generation.canceled",
  "generation.deleted",
  "link.issued",
  "link.used",
  "file.downloaded",
  "export.requested",
  "export.ready",
  "export.downloaded",
  "export.deleted",
  "audit.viewed",
  "api_key.created",
  "api_key.revoked",
  "webhook_endpoint.created",
  "webhook_endpoint.deleted",
  "webhook_endpoint.secret_rotated",
  "api_key.used",
  "billing.checkout",
  "billing.credited",
  "billing.reversed",
  "support.accessed",
  "support.grant_changed",
  "retention.deleted",
  // Someone other than the user (a BabyPic job) read the user's data; detail.reason says why.
  "data.read",
  // Issue 16: the privacy team's tools (worker/services/operator.ts).
  "operator.action",
  "notice.sent",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type ActorType = "user" | "api_key" | "system" | "support";
export type AuditDetail = Record<string, string | number | boolean | null>;

export interface AuditEvent {
  userId: string;
  actor: { type: ActorType; id: string | null };
  action: AuditAction;
  target?: { type: string; id: string } | undefined;
  detail?: AuditDetail | undefined;
  meta?: RequestMeta | undefined;
}

export type AuditRow = typeof auditLog.$inferSelect;

/** The audit actor for an authenticated caller: the user, or the API key acting for them. */
export function auditActor(auth: Pick<AuthContext, "via" | "userId" | "actorId">): AuditEvent["actor"] {
  return auth.via === "api_key" ? { type: "api_key", id: auth.actorId } : { type: "user", id: auth.userId };
}

/** The exact bytes hashed for an entry; changing this breaks existing chains. */
export function entryHashInput(row: Omit<AuditRow, "id" | "hash">): string {
  return JSON.stringify([
    "audit-v1",
    row.userId,
    row.seq,
    row.at,
    row.actorType,
    row.actorId,
    row.action,
    row.targetType,
    row.targetId,
    row.requestId,
    row.ipPrefix,
    row.userAgent,
    row.detail,
    row.prevHash,
  ]);
}


/** Enough for a gallery page of images requested at once by one user. */
const APPEND_ATTEMPTS = 40;

/** The newest entry of a user's chain: what the next entry links to. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * The query for a user's chain head, for a route to run inside its own read
 * batch and hand to appendAuditMany as `head`, saving a round trip.
 */
export function chainHeadQuery(db: Db, userId: string) {
  return db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).where(eq(auditLog.userId, userId)).orderBy(desc(auditLog.seq)).limit(1);
}

/** An event's id and its personal fields sealed for D1, made once per append (not per retry). */
interface SealedEvent {
  ev: AuditEvent;
  id: string;
  ipPrefix: string | null;
  userAgent: string | null;
  detail: string | null;
}

/**
 * IP prefix, user agent and detail are sealed under the user's DEK
 * (crypto/fields.ts): the entry hash covers the stored ciphertext, so a chain
 * still verifies after the key is shredded and the hash reveals nothing a
 * guess could confirm. System events (queue, webhooks, cron) never create a
 * DEK: for a user whose key is gone their personal fields are left out.
 */
async function sealEvents(db: Db, events: readonly AuditEvent[]): Promise<SealedEvent[]> {
  const s = servicesOf(db);
  return Promise.all(
    events.map(async (ev) => {
      const id = newId("aud");
      const opts = { create: ev.actor.type !== "system" };
      const ref = (column: string) => ({ table: "audit_log", column, rowId: id, userId: ev.userId });
      const [ipPrefix, userAgent, detail] = await Promise.all([
        sealField(s, ref("ip_prefix"), ev.meta?.ipPrefix, opts),
        sealField(s, ref("user_agent"), ev.meta?.userAgent, opts),
        sealField(s, ref("detail"), ev.detail ? JSON.stringify(ev.detail) : null, opts),
      ]);
      return { ev, id, ipPrefix, userAgent, detail };
    }),
  );
}

async function chainRows(events: readonly SealedEvent[], head: ChainHead | undefined, now: number): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  for (const { ev, id, ipPrefix, userAgent, detail } of events) {
    seq++;
    const base = {
      userId: ev.userId,
      seq,
      at: now,
      actorType: ev.actor.type,
      actorId: ev.actor.id,
      action: ev.action,
      targetType: ev.target?.type ?? null,
      targetId: ev.target?.id ?? null,
      requestId: ev.meta?.requestId ?? null,
      ipPrefix,
      userAgent,
      detail,
      prevHash,
    };
    const row: AuditRow = { id, ...base, hash: await sha256Hex(entryHashInput(base)) };
    rows.push(row);
    prevHash = row.hash;
  }
  return rows;
}

/**
 * Appends several entries of one user's chain, in order, with one read of the
 * chain head and one D1 batch of inserts (a batch is one SQL transaction, so
 * either every entry lands or none does). D1 serialises writes; concurrent
 * appends for the same user race on the unique (user_id, seq) index and each
 * loser re-reads the head and retries on top of it after a short random
 * pause, so a burst of parallel requests (a gallery loading its images) all
 * land in one chain.
 *
 * `head`, when given, is a chain head the caller already read in its own
 * batch (chainHeadQuery; `null` = empty chain): the first attempt builds on
 * it, and a stale one only costs a retry, because the unique index refuses it.
 */
export async function appendAuditMany(
  db: Db,
  events: readonly AuditEvent[],
  now: number,
  opts: { head?: ChainHead | null } = {},
): Promise<AuditRow[]> {
  const [first, ...rest] = events;
  if (!first) return [];
  if (rest.some((ev) => ev.userId !== first.userId)) throw new Error("appendAuditMany: events of one user only");
  const sealed = await sealEvents(db, events);
  for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
    const hinted = attempt === 0 && opts.head !== undefined;
    // A stale hint is retried at once; a lost race on a fresh read backs off.
    if (attempt > 1 || (attempt === 1 && opts.head === undefined)) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(40, 2 * attempt)));
    }
    const head = hinted ? opts.head : await chainHeadQuery(db, first.userId).get();
    const rows = await chainRows(sealed, head ?? undefined, now);
    const [one, ...more] = rows.map((row) => db.insert(auditLog).values(row));
    if (!one) return [];
    try {
      await db.batch([one, ...more]);
      return rows;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  throw new Error("audit append kept colliding");
}

/** Appends one entry (appendAuditMany with a single event). */
export async function appendAudit(db: Db, ev: AuditEvent, now: number): Promise<AuditRow> {
  const [row] = await appendAuditMany(db, [ev], now);
  if (!row) throw new Error("audit append returned nothing");
  return row;
}

export type ChainResult = { ok: true; entries: number } | { ok: false; seq: number; reason: "hash-mismatch" | "broken-link" | "gap" };

/** Verifies a user's whole chain, oldest first. */
export async function verifyChain(rows: readonly AuditRow[]): Promise<ChainResult> {
  let prev = GENESIS_HASH;
    let expectedSeq = 1;
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, seq: row.seq, reason: "gap" };
      if (row.prevHash !== prev) return { ok: false, seq: row.seq, reason: "broken-link" };
      const { id: _id, hash, ...rest } = row;
      void _id;
      if ((await sha256Hex(entryHashInput(rest))) !== hash) return { ok: false, seq: row.seq, reason: "hash-mismatch" };
      prev = hash;
      expectedSeq++;
    }
    return { ok: true, entries: rows.length };
}

export async function loadChain(db: Db, userId: string): Promise<AuditRow[]> {
  return db.select().from(auditLog).where(eq(auditLog.userId, userId)).orderBy(asc(auditLog.seq)).all();
}

/** Newest first, cursor = the last seq seen. */
export async function pageAudit(db: Db, userId: string, limit: number, beforeSeq?: number): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(beforeSeq ? and(eq(auditLog.userId, userId), lt(auditLog.seq, beforeSeq)) : eq(auditLog.userId, userId))
    .orderBy(desc(auditLog.seq))
    .limit(limit)
    .all();
}


/** The personal fields exactly as stored in D1 (sealed `bpf1.…`, or legacy plain text): what the entry hash covers. */
export interface StoredAuditFields {
  ipPrefix: string | null;
  userAgent: string | null;
  detail: string | null;
}

/** An entry opened for its owner, plus the stored forms the chain hash was computed over (docs/audit-log.md). */
export type OpenedAuditRow = AuditRow & { stored: StoredAuditFields };

/** A stored entry with its personal fields opened for the owner (either encoding; null once the key is shredded). */
export async function openAuditRow(s: Services, row: AuditRow): Promise<OpenedAuditRow> {
  const ref = (column: string) => ({ table: "audit_log", column, rowId: row.id, userId: row.userId });
  const [ipPrefix, userAgent, detail] = await Promise.all([
    openField(s, ref("ip_prefix"), row.ipPrefix),
    openField(s, ref("user_agent"), row.userAgent),
    openField(s, ref("detail"), row.detail),
  ]);
  return { ...row, ipPrefix, userAgent, detail, stored: { ipPrefix: row.ipPrefix, userAgent: row.userAgent, detail: row.detail } };
}

export function openAuditRows(s: Services, rows: readonly AuditRow[]): Promise<OpenedAuditRow[]> {
  return Promise.all(rows.map((r) => openAuditRow(s, r)));
}
