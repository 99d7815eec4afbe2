/**
 * Anchored checkpoints of the per-user audit chain (docs/audit-log.md,
 * docs/decisions/0013-audit-checkpoints.md). BabyPic signs `{userId, seq,
 * head, time}` with an Ed25519 key from the AUDIT_SIGNING_KEYS secret ring,
 * which never touches D1. A copy the user keeps (an export, the API answer,
 * the deletion receipt) then exposes a later rewrite of the entries it covers
 * by anyone who can only write D1, even one who recomputes every hash and
 * deletes the checkpoint rows here.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditCheckpoints, auditLog } from "../db/schema";
import type { Config } from "../env";
import { bytesToBase64Url, checkpointMessage, type AuditPublicKey, type Checkpoint } from "../lib/audit-verify";
import { keysetPage, keysetQuery, type KeysetCursor } from "../lib/cursor";
import { newId } from "../lib/ids";
import type { Services } from "./types";
import { chainHeadQuery } from "./audit";

export type CheckpointRow = typeof auditCheckpoints.$inferSelect;
export type CheckpointReason = CheckpointRow["reason"];

/** A checkpoint is due when the log changed and the newest one is at least this old. */
export const CHECKPOINT_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Users checkpointed per cron run (every 5 minutes: up to 14,400 a day). */
export const CHECKPOINT_SWEEP_BATCH = 50;

type Ring = Config["AUDIT_SIGNING_KEYS"];

/** Every key of the ring, public parts only: what `GET /v1/audit/keys` publishes. */
export function publicAuditKeys(ring: Ring): AuditPublicKey[] {
  return Object.entries(ring.keys).map(([kid, k]) => ({
    kty: "OKP",
    crv: "Ed25519",
    x: k.x,
    kid,
    status: kid === ring.current ? "current" : "retired",
    retiredAt: k.retiredAt ? new Date(Date.parse(k.retiredAt)).toISOString() : null,
  }));
}

const signingKeys = new WeakMap<Ring, Promise<CryptoKey>>();

function currentSigningKey(ring: Ring): Promise<CryptoKey> {
  let key = signingKeys.get(ring);
  if (!key) {
    const jwk = ring.keys[ring.current];
    // env.ts guarantees the current key exists and has `d`.
    if (!jwk?.d) throw new Error("AUDIT_SIGNING_KEYS: current key has no private part");
    key = crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }, { name: "Ed25519" }, false, ["sign"]);
    signingKeys.set(ring, key);
  }
  return key;
}

/** Signs a chain head with the ring's current key. */
export async function signCheckpoint(ring: Ring, head: { userId: string; seq: number; head: string; at: number }): Promise<Checkpoint> {
  const time = new Date(head.at).toISOString();
  const body = { userId: head.userId, seq: head.seq, head: head.head, time };
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, await currentSigningKey(ring), checkpointMessage(body)));
  return { ...body, keyId: ring.current, sig: bytesToBase64Url(sig) };
}

export function toCheckpoint(row: CheckpointRow): Checkpoint {
  return { userId: row.userId, seq: row.seq, head: row.head, time: new Date(row.createdAt).toISOString(), keyId: row.keyId, sig: row.sig };
}

/**
 * Signs the user's current chain head and stores the checkpoint. null when
 * the user has no entries yet. Reuses the newest checkpoint when it already
 * covers the head, so repeated calls add nothing.
 */
export async function makeCheckpoint(s: Services, userId: string, reason: CheckpointReason): Promise<Checkpoint | null> {
  const head = await chainHeadQuery(s.db, userId).get();
  if (!head) return null;
  const newest = await s.db
    .select()
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.userId, userId))
    .orderBy(desc(auditCheckpoints.seq), desc(auditCheckpoints.createdAt))
    .limit(1)
    .get();
  if (newest && newest.seq === head.seq && newest.head === head.hash) return toCheckpoint(newest);
  const cp = await signCheckpoint(s.config.AUDIT_SIGNING_KEYS, { userId, seq: head.seq, head: head.hash, at: s.now() });
  await s.db.insert(auditCheckpoints).values({
    id: newId("acp"),
    userId,
    seq: cp.seq,
    head: cp.head,
    createdAt: Date.parse(cp.time),
    keyId: cp.keyId,
    sig: cp.sig,
    reason,
  });
  return cp;
}

/** Every checkpoint of a user, oldest first (exports). */
export async function allCheckpoints(db: Db, userId: string): Promise<Checkpoint[]> {
  const rows = await db.select().from(auditCheckpoints).where(eq(auditCheckpoints.userId, userId)).orderBy(auditCheckpoints.createdAt, auditCheckpoints.id).all();
  return rows.map(toCheckpoint);
}

/** One newest-first keyset page (worker/lib/cursor.ts). */
export async function pageCheckpoints(db: Db, userId: string, limit: number, after: KeysetCursor | null): Promise<{ page: CheckpointRow[]; nextCursor: string | null }> {
  const q = keysetQuery(eq(auditCheckpoints.userId, userId), auditCheckpoints.createdAt, auditCheckpoints.id, after);
  const rows = await db
    .select()
    .from(auditCheckpoints)
    .where(q.where)
    .orderBy(...q.orderBy)
    .limit(limit + 1)
    .all();
  return keysetPage(rows, limit);
}

/**
 * Cron sweep: a checkpoint for each user whose log grew since their newest
 * checkpoint and whose newest checkpoint is a day old (or who has none), at
 * most CHECKPOINT_SWEEP_BATCH users per run, longest-waiting first.
 */
export async function sweepCheckpoints(s: Services): Promise<number> {
  const dueBefore = s.now() - CHECKPOINT_INTERVAL_MS;
  const lastSeq = sql<number>`max(${auditLog.seq})`;
  const cpSeq = sql<number>`coalesce((select max(c.seq) from audit_checkpoints c where c.user_id = ${auditLog.userId}), 0)`;
  const cpAt = sql<number>`coalesce((select max(c.created_at) from audit_checkpoints c where c.user_id = ${auditLog.userId}), 0)`;
  const due = await s.db
    .select({ userId: auditLog.userId, cpAt })
    .from(auditLog)
    .groupBy(auditLog.userId)
    .having(and(sql`${lastSeq} > ${cpSeq}`, sql`${cpAt} <= ${dueBefore}`))
    .orderBy(cpAt)
    .limit(CHECKPOINT_SWEEP_BATCH)
    .all();
  let made = 0;
  for (const { userId } of due) {
    if (await makeCheckpoint(s, userId, "daily")) made++;
  }
  return made;
}
