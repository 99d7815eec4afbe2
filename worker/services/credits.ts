/**
 * Credits: one append-only ledger; balance is its sum. Every movement has a
 * (reason, reference) pair that is unique, so a reservation, a refund or a
 * purchase can never be applied twice however often a message or webhook is
 * redelivered.
 */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { ledger } from "../db/schema";
import { newId } from "../lib/ids";

export type LedgerReason = (typeof ledger.$inferInsert)["reason"];
export type LedgerRow = typeof ledger.$inferSelect;

/**
 * A conditional insert that reserves `cost` credits for `reference` only if
 * the balance covers it. Put it in the same `db.batch` as the row it pays for
 * and check `reservationMade` afterwards.
 */
export function reserveStatement(db: Db, userId: string, cost: number, reference: string, now: number) {
  return db.run(sql`
    INSERT OR IGNORE INTO ledger (id, user_id, delta, reason, reference, created_at)
    SELECT ${newId("led")}, ${userId}, ${-cost}, 'reserve', ${reference}, ${now}
    WHERE (SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE user_id = ${userId}) >= ${cost}`);
}

export async function reservationMade(db: Db, reference: string): Promise<boolean> {
  const row = await db
    .select({ id: ledger.id })
    .from(ledger)
    .where(and(eq(ledger.reason, "reserve"), eq(ledger.reference, reference)))
    .get();
  return row !== undefined;
}

/**
 * Refunds a reservation exactly once: the refund copies the reserved amount
 * and is unique on (refund, reference). Returns true if this call refunded.
 */
export async function refundReservation(db: Db, reference: string, now: number): Promise<boolean> {
  const res = await db.run(sql`
    INSERT OR IGNORE INTO ledger (id, user_id, delta, reason, reference, created_at)
    SELECT ${newId("led")}, user_id, -delta, 'refund', reference, ${now}
    FROM ledger WHERE reason = 'reserve' AND reference = ${reference}`);
  return (res.meta.changes ?? 0) > 0;
}

/** Appends one ledger entry; returns false if (reason, reference) was already recorded. */
export async function appendLedger(
  db: Db,
  entry: { userId: string; delta: number; reason: LedgerReason; reference: string },
  now: number,
): Promise<boolean> {
  const res = await db
    .insert(ledger)
    .values({ id: newId("led"), ...entry, createdAt: now })
    .onConflictDoNothing()
    .run();
  return (res.meta.changes ?? 0) > 0;
}

/** Newest first; cursor is the created_at of the last row seen. */
export async function ledgerPage(db: Db, userId: string, limit: number, before?: number): Promise<LedgerRow[]> {
  return db
    .select()
    .from(ledger)
    .where(before ? and(eq(ledger.userId, userId), lt(ledger.createdAt, before)) : eq(ledger.userId, userId))
    .orderBy(desc(ledger.createdAt), desc(ledger.id))
    .limit(limit)
    .all();
}
