/**
 * Per-user, hash-chained audit log (docs/architecture.md). Each entry stores the hash
 * of the previous one, and its own hash covers every field plus that link, so
 * editing, inserting or removing an entry breaks the chain from there on.
 * Never put tokens, signatures, keys or image bytes in `detail`.
 */
import { and, asc, desc, eq, inArray, lt, lte, sql } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import type { Db } from "../db/client";
import { auditLog, auditPending } from "../db/schema";
import { sha256Hex } from "../lib/bytes";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";
import { openField, sealField, servicesOf } from "./crypto/fields";
import type { Services } from "./types";
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

/** Entries chained per transaction by the sealer. */
const SEAL_BATCH = 50;

/** Passes a best-effort sealer makes before leaving the rest to the next request or the cron. */
const SEAL_PASSES = 20;

/** The newest entry of a user's chain: what the next entry links to. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * The query for a user's chain head (what the next entry links to; the
 * checkpoints sign it).
 */
export function chainHeadQuery(db: Db, userId: string) {
  return db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).where(eq(auditLog.userId, userId)).orderBy(desc(auditLog.seq)).limit(1);
}

/** The oldest entries of a user still waiting to be chained, in the order they were recorded. */
function pendingQuery(db: Db, userId: string) {
  return db.select().from(auditPending).where(eq(auditPending.userId, userId)).orderBy(asc(auditPending.n)).limit(SEAL_BATCH);
}

type PendingRow = typeof auditPending.$inferSelect;

/**
 * IP prefix, user agent and detail are sealed under the user's DEK
 * (crypto/fields.ts): the entry hash covers the stored ciphertext, so a chain
 * still verifies after the key is shredded and the hash reveals nothing a
 * guess could confirm. System events (queue, webhooks, cron) never create a
 * DEK: for a user whose key is gone their personal fields are left out.
 */
async function pendingValues(db: Db, events: readonly AuditEvent[], now: number): Promise<Omit<PendingRow, "n">[]> {
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
      return {
        id,
        userId: ev.userId,
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
      };
    }),
  );
}

/** Chains pending entries (oldest first) onto `head`. */
async function chainRows(pending: readonly PendingRow[], head: ChainHead | undefined): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  for (const { n: _n, id, ...fields } of pending) {
    void _n;
    seq++;
    const base = { ...fields, seq, prevHash };
    const row: AuditRow = { id, ...base, hash: await sha256Hex(entryHashInput(base)) };
    rows.push(row);
    prevHash = row.hash;
  }
  return rows;
}

function oneUser(events: readonly AuditEvent[]): string | undefined {
  const [first, ...rest] = events;
  if (!first) return undefined;
  if (rest.some((ev) => ev.userId !== first.userId)) throw new Error("audit: events of one user only");
  return first.userId;
}

/**
 * One sealing step: chains what `read` found ([head], [pending...]) and, in
 * one transaction, inserts the chained entries and deletes them from
 * `audit_pending`. Returns the chained rows, [] when nothing was pending, or
 * null when another sealer chained first (the unique `(user_id, seq)` index
 * refused the batch, so nothing of it landed).
 */
async function sealStep(db: Db, userId: string, head: ChainHead | undefined, pending: readonly PendingRow[]): Promise<AuditRow[] | null> {
  const last = pending[pending.length - 1];
  if (!last) return [];
  const rows = await chainRows(pending, head);
  const inserts = rows.map((row) => db.insert(auditLog).values(row));
  // Every row of this user with n <= last.n was in `pending` (read in n order
  // in the same snapshot as the head); any recorded since has a higher n.
  const remove = db.delete(auditPending).where(and(eq(auditPending.userId, userId), lte(auditPending.n, last.n)));
  try {
    await db.batch([remove, ...inserts]);
    return rows;
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
}

/**
 * Chains every pending entry of `userId` into `audit_log`, in the order they
 * were recorded (docs/decisions/0018).
 *
 * - `complete` (readers of the log, exports, deletion, synchronous appends):
 *   returns only once nothing recorded before the call is still pending; a
 *   lost race against another sealer re-reads and retries.
 * - `best-effort` (after a request answered, the cron): a lost race means
 *   another sealer is working on this user, and it keeps going until nothing
 *   is pending, so this one stops. Whatever is left (a Worker that died
 *   mid-way) the next request or the cron (`audit.seal`) chains.
 */
export async function sealAudit(db: Db, userId: string, mode: "complete" | "best-effort" = "complete"): Promise<AuditRow[]> {
  const sealed: AuditRow[] = [];
  let lost = 0;
  for (let pass = 0; pass < (mode === "complete" ? APPEND_ATTEMPTS + SEAL_PASSES : SEAL_PASSES); pass++) {
    const [heads, pending] = await db.batch([chainHeadQuery(db, userId), pendingQuery(db, userId)]);
    const rows = await sealStep(db, userId, heads[0], pending);
    if (rows === null) {
      if (mode === "best-effort" || ++lost >= APPEND_ATTEMPTS) break;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(40, 2 * lost)));
      continue;
    }
    sealed.push(...rows);
    if (pending.length < SEAL_BATCH) return sealed;
  }
  if (mode === "complete") throw new Error("audit sealing kept colliding");
  return sealed;
}

/**
 * Records entries of one user's log without waiting for the chain (the fast
 * path, docs/decisions/0018): one D1 insert into `audit_pending` before the
 * caller answers, so an entry survives a Worker that dies right after; the
 * chaining runs after the answer (`waitUntil`), and the cron chains anything
 * left. Readers of the log seal first, so they never miss a recorded entry.
 */
export async function recordAudit(
  s: { db: Db; waitUntil: (task: Promise<unknown>) => void },
  events: readonly AuditEvent[],
  now: number,
): Promise<void> {
  const userId = await insertPendingAudit(s.db, events, now);
  if (!userId) return;
  // One sealer per user per isolate: a request that finds one running asks it
  // for another pass instead of starting a second (which would only race it on
  // the unique index). Only a flag is shared, never a promise or I/O object
  // across requests: the pass runs in the first request's `waitUntil`.
  const running = sealers.get(userId);
  if (running && Date.now() - running.since < SEALER_STALE_MS) {
    running.again = true;
    return;
  }
  const state = { again: false, since: Date.now() };
  sealers.set(userId, state);
  s.waitUntil(sealWhileAsked(s.db, userId, state));
}

/** Users with a sealer running in this isolate, and whether more was recorded since its pass began. */
const sealers = new Map<string, { again: boolean; since: number }>();

/** A sealer older than this is presumed cut off (its `waitUntil` ended) and no longer waited for. */
const SEALER_STALE_MS = 10_000;

/**
 * How long a sealer waits before each pass, so that the entries of the
 * user's next requests (a poll, a gallery's thumbnails) are chained by the
 * same pass instead of one pass each: a pass costs two D1 round trips and a
 * hash per entry, and it runs in the isolate that answers the next request.
 * Readers of the log seal first, so the wait never hides an entry.
 */
const SEAL_DELAY_MS = 50;

/** Seals in passes as long as requests of this isolate ask for more, up to SEAL_PASSES; the cron chains anything left. */
async function sealWhileAsked(db: Db, userId: string, state: { again: boolean; since: number }): Promise<void> {
  try {
    for (let pass = 0; pass < SEAL_PASSES; pass++) {
      await new Promise((resolve) => setTimeout(resolve, SEAL_DELAY_MS));
      state.again = false;
      await sealAudit(db, userId, "best-effort");
      if (!state.again) return;
    }
  } finally {
    // Synchronously after the last check of `again`: a request recording now starts its own sealer.
    if (sealers.get(userId) === state) sealers.delete(userId);
  }
}

/**
 * The durable half of recordAudit: the entries in `audit_pending`, one D1
 * batch (one transaction). What is left when a Worker dies right after
 * answering. Returns the user id, or null for no events.
 */
export async function insertPendingAudit(db: Db, events: readonly AuditEvent[], now: number): Promise<string | null> {
  const userId = oneUser(events);
  if (!userId) return null;
  const values = await pendingValues(db, events, now);
  const [one, ...more] = values.map((v) => db.insert(auditPending).values(v));
  if (!one) return null;
  await db.batch([one, ...more]);
  return userId;
}

/**
 * Appends several entries of one user's chain, in order, and returns them
 * chained (seq and hash), for callers that need the position now (a
 * checkpoint of the deletion, the export). They are recorded in
 * `audit_pending` and, in the same D1 batch, the head and the pending entries
 * are read; then the sealer chains them with everything recorded before them
 * (one more batch, one transaction). So there is one order for all writers:
 * the order entries were recorded. Concurrent sealers of the same user race
 * on the unique `(user_id, seq)` index; the loser re-reads and retries.
 *
 * `opts.head` is accepted for compatibility and ignored: the head is read in
 * the same batch that records the entries.
 */
export async function appendAuditMany(
  db: Db,
  events: readonly AuditEvent[],
  now: number,
  opts: { head?: ChainHead | null } = {},
): Promise<AuditRow[]> {
  void opts;
  const userId = oneUser(events);
  if (!userId) return [];
  const values = await pendingValues(db, events, now);
  const inserts = values.map((v) => db.insert(auditPending).values(v));
  const [first, ...rest] = inserts;
  if (!first) return [];
  const [, ...reads] = await db.batch([first, ...rest, chainHeadQuery(db, userId), pendingQuery(db, userId)]);
  const heads = reads[rest.length] as ChainHead[];
  const pending = reads[rest.length + 1] as PendingRow[];
  const mine = new Set(values.map((v) => v.id));
  const byId = new Map<string, AuditRow>();
  const step = await sealStep(db, userId, heads[0], pending);
  for (const row of step ?? []) if (mine.has(row.id)) byId.set(row.id, row);
  if (step === null || pending.length >= SEAL_BATCH || byId.size < mine.size) {
    for (const row of await sealAudit(db, userId, "complete")) if (mine.has(row.id)) byId.set(row.id, row);
  }
  if (byId.size < mine.size) {
    // Another sealer chained some of them: read them back.
    const missing = [...mine].filter((id) => !byId.has(id));
    for (const row of await db.select().from(auditLog).where(inArray(auditLog.id, missing)).all()) byId.set(row.id, row);
  }
  return values.map((v) => {
    const row = byId.get(v.id);
    if (!row) throw new Error("audit append: an entry was not chained");
    return row;
  });
}

/** Appends one entry (appendAuditMany with a single event). */
export async function appendAudit(db: Db, ev: AuditEvent, now: number): Promise<AuditRow> {
  const [row] = await appendAuditMany(db, [ev], now);
  if (!row) throw new Error("audit append returned nothing");
  return row;
}

/** Users the cron seals per run (each a few D1 round trips). */
const SEAL_USERS_PER_RUN = 200;

/** The cron's `audit.seal`: chains what requests recorded but did not get to chain (a Worker that died after answering). */
export async function sealPendingAudit(s: { db: Db }): Promise<number> {
  let chained = 0;
  for (const userId of await usersWithPendingAudit(s.db, SEAL_USERS_PER_RUN)) chained += (await sealAudit(s.db, userId, "complete")).length;
  return chained;
}

/** Users with entries waiting to be chained, longest-waiting first (for the cron). */
export async function usersWithPendingAudit(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .select({ userId: auditPending.userId, first: sql<number>`min(${auditPending.n})` })
    .from(auditPending)
    .groupBy(auditPending.userId)
    .orderBy(sql`min(${auditPending.n})`)
    .limit(limit)
    .all();
  return rows.map((r) => r.userId);
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

/** A user's whole chain, oldest first, after chaining everything recorded so far. */
export async function loadChain(db: Db, userId: string): Promise<AuditRow[]> {
  await sealAudit(db, userId);
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
