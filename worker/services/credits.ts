/**
 * Credits: one append-only ledger; balance is its sum. Every movement has a
 * (reason, reference) pair that is unique, so a reservation, a refund or a
 * purchase can never be applied twice however often a message or webhook is
 * redelivered.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { ledger, users } from "../db/schema";
import { keysetQuery, type KeysetCursor } from "../lib/cursor";
import { newId } from "../lib/ids";

export type LedgerReason = (typeof ledger.$inferInsert)["reason"];
export type LedgerRow = typeof ledger.$inferSelect;

/** What a ledger row derived from a query takes from that query's rows: all but its fresh id and its time. */
interface DerivedLedgerColumns {
  userId: AnySQLiteColumn | SQL.Aliased<string>;
  delta: SQL.Aliased<number>;
  reason: SQL.Aliased<LedgerReason>;
  reference: AnySQLiteColumn | SQL.Aliased<string>;
}

/**
 * A statement for `db.batch` appending one ledger row per `source` row
 * matching `where` (INSERT ... SELECT), each with a fresh id and `now`; a
 * (reason, reference) already recorded is ignored. A query builder, not
 * db.run(sql``): drizzle's D1 batch cannot bind the parameters of raw
 * statements.
 */
function insertLedgerRowsFrom(db: Db, source: typeof users | typeof ledger, columns: DerivedLedgerColumns, where: SQL | undefined, now: number) {
  return db
    .insert(ledger)
    .select(
      db
        .select({ id: sql<string>`${newId("led")}`.as("id"), ...columns, createdAt: sql<number>`${now}`.as("created_at") })
        .from(source)
        .where(where),
    )
    .onConflictDoNothing();
}

/**
 * A conditional insert that reserves `cost` credits for `reference` only if
 * the balance covers it. Put it in the same `db.batch` as the row it pays for
 * and check `reservationMade` afterwards.
 */
export function reserveStatement(db: Db, userId: string, cost: number, reference: string, now: number) {
  // Selecting the user's own row yields the one row to insert, filtered by
  // the balance check.
  return insertLedgerRowsFrom(
    db,
    users,
    {
      userId: users.id,
      delta: sql<number>`${-cost}`.as("delta"),
      reason: sql<"reserve">`'reserve'`.as("reason"),
      reference: sql<string>`${reference}`.as("reference"),
    },
    and(eq(users.id, userId), sql`(SELECT COALESCE(SUM(${ledger.delta}), 0) FROM ${ledger} WHERE ${ledger.userId} = ${userId}) >= ${cost}`),
    now,
  );
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

export interface LedgerEntry {
  userId: string;
  delta: number;
  reason: LedgerReason;
  reference: string;
}

/** One ledger entry as a statement for `db.batch`, so it lands atomically with its source event; a repeat is ignored. */
export function ledgerEntryStatement(db: Db, entry: LedgerEntry, now: number) {
  return db
    .insert(ledger)
    .values({ id: newId("led"), ...entry, createdAt: now })
    .onConflictDoNothing();
}

/** Appends one ledger entry; returns false if (reason, reference) was already recorded. */
export async function appendLedger(db: Db, entry: LedgerEntry, now: number): Promise<boolean> {
  const res = await ledgerEntryStatement(db, entry, now).run();
  return (res.meta.changes ?? 0) > 0;
}

/**
 * Reverses a purchase exactly once (a Creem refund), as a statement for
 * `db.batch`: copies the purchased amount negated, unique on
 * (purchase_reversal, reference), and does nothing if there is no such
 * purchase. The balance may go below zero if the credits were already spent;
 * reservations then fail until it is positive again.
 */
export function purchaseReversalStatement(db: Db, reference: string, now: number) {
  return insertLedgerRowsFrom(
    db,
    ledger,
    {
      userId: ledger.userId,
      delta: sql<number>`-${ledger.delta}`.as("delta"),
      reason: sql<"purchase_reversal">`'purchase_reversal'`.as("reason"),
      reference: ledger.reference,
    },
    and(eq(ledger.reason, "purchase"), eq(ledger.reference, reference)),
    now,
  );
}

/** The ledger entry for (reason, reference), if any. */
export async function ledgerEntry(db: Db, reason: LedgerReason, reference: string): Promise<LedgerRow | undefined> {
  return db
    .select()
    .from(ledger)
    .where(and(eq(ledger.reason, reason), eq(ledger.reference, reference)))
    .get();
}

/** Newest first, strictly after `after` in that order ((created_at, id) is unique: no row skipped or repeated). */
export async function ledgerPage(db: Db, userId: string, limit: number, after?: KeysetCursor): Promise<LedgerRow[]> {
  const q = keysetQuery(eq(ledger.userId, userId), ledger.createdAt, ledger.id, after ?? null);
  return db.select().from(ledger).where(q.where).orderBy(...q.orderBy).limit(limit).all();
}
