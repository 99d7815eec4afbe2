/**
 * Users are created on first authenticated use. The internal id is random;
 * the identity provider's subject is kept only in `external_id`.
 */
import { and, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { deletedCredentials, ledger, tombstones, users } from "../db/schema";
import type { Config } from "../env";
import { newId } from "../lib/ids";
import { subjectDeletedAt } from "./deleted-credentials";
import { deletionHmacCandidates } from "./deletion-hmac";
import { openField, sealField } from "./crypto/fields";
import type { Services } from "./index";
import { isBeingDeleted } from "./tombstones";

export type UserRow = typeof users.$inferSelect;

export async function findUserByExternalId(db: Db, externalId: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.externalId, externalId)).get();
}

/**
 * The user for a session subject, whether an account deletion is under way
 * for it (a tombstone by subject or by user id) and, if an earlier account of
 * this subject was deleted recently, when (services/deleted-credentials.ts).
 * With a user row this is one D1 query, so an authenticated request costs one
 * read before its route runs; without one (first sign-in, or deletion already
 * removed it) the tombstone and the deleted subject are looked up by subject.
 */
export async function findSessionUser(
  s: { db: Db; config: Pick<Config, "MASTER_KEYS"> },
  externalId: string,
  now: number,
): Promise<{ user: UserRow | undefined; deleting: boolean; deletedAt: number | null }> {
  const lookups = await deletionHmacCandidates(s.config, "subject", externalId);
  const row = await s.db
    .select({
      ...getTableColumns(users),
      deleting: sql<number>`exists (select 1 from ${tombstones} where ${tombstones.externalId} = ${externalId} or ${tombstones.userId} = ${users.id})`,
      deletedAt: sql<number | null>`(select max(${deletedCredentials.deletedAt}) from ${deletedCredentials} where ${inArray(deletedCredentials.lookup, lookups)} and ${deletedCredentials.expiresAt} > ${now})`,
    })
    .from(users)
    .where(eq(users.externalId, externalId))
    .get();
  if (!row) {
    const [deleting, deletedAt] = await Promise.all([isBeingDeleted(s, { externalId }), subjectDeletedAt(s, externalId, now)]);
    return { user: undefined, deleting, deletedAt };
  }
  const { deleting, deletedAt, ...user } = row;
  return { user, deleting: Number(deleting) === 1, deletedAt: deletedAt === null ? null : Number(deletedAt) };
}

/**
 * Returns the user for this subject, creating it (and its free-credit grant,
 * through the same ledger as purchases) in one batch on first use. Two racing
 * first requests both end up with the same row: the insert ignores the
 * conflict and the grant is unique per user.
 */
export async function ensureUser(
  s: Services,
  externalId: string,
  email: string | null,
  now: number,
  freeCredits: number,
): Promise<{ user: UserRow; created: boolean }> {
  const db = s.db;
  const existing = await findUserByExternalId(db, externalId);
  if (existing) return { user: existing, created: false };
  const id = newId("usr");
  const grant = db
    .select({
      id: sql<string>`${newId("led")}`.as("id"),
      userId: users.id,
      delta: sql<number>`${freeCredits}`.as("delta"),
      reason: sql<"free_grant">`'free_grant'`.as("reason"),
      reference: users.id,
      createdAt: sql<number>`${now}`.as("created_at"),
    })
    .from(users)
    .where(and(eq(users.externalId, externalId), sql`${freeCredits} > 0`));
  await db.batch([
    db.insert(users).values({ id, externalId, email: null, createdAt: now }).onConflictDoNothing(),
    db.insert(ledger).select(grant).onConflictDoNothing(),
  ]);
  const user = await findUserByExternalId(db, externalId);
  if (!user) throw new Error("user creation failed");
  const created = user.id === id;
  // The address is sealed under the new user's DEK, which exists only once the row has won any race.
  if (created && email) {
    const sealed = await sealField(s, userRef(id, "email"), email);
    await db.update(users).set({ email: sealed }).where(eq(users.id, id));
    return { user: { ...user, email: sealed }, created };
  }
  return { user, created };
}

const userRef = (userId: string, column: "email" | "consent_version") => ({ table: "users", column, rowId: userId, userId });

/** Seals the consent terms version for the users row (crypto/fields.ts). */
export function sealConsentVersion(s: Services, userId: string, version: string): Promise<string | null> {
  return sealField(s, userRef(userId, "consent_version"), version);
}

/** Opens a stored consent version (either encoding). */
export function openConsentVersion(s: Services, userId: string, stored: string | null | undefined): Promise<string | null> {
  return openField(s, userRef(userId, "consent_version"), stored);
}

/** The row with its personal fields (email, consent version) opened for the owner. */
export async function openUserFields<T extends Pick<UserRow, "id" | "email" | "consentVersion">>(s: Services, row: T): Promise<T> {
  const [email, consentVersion] = await Promise.all([openField(s, userRef(row.id, "email"), row.email), openConsentVersion(s, row.id, row.consentVersion)]);
  return { ...row, email, consentVersion };
}

/** The query behind balanceOf, for a route's own read batch. */
export function balanceQuery(db: Db, userId: string) {
  return db.select({ total: sql<number>`COALESCE(SUM(${ledger.delta}), 0)` }).from(ledger).where(eq(ledger.userId, userId));
}

export async function balanceOf(db: Db, userId: string): Promise<number> {
  const row = await balanceQuery(db, userId).get();
  return Number(row?.total ?? 0);
}
