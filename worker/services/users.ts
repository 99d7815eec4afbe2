/**
 * Users are created on first authenticated use. The internal id is random;
 * the identity provider's subject is found by a keyed lookup in `external_id`
 * (HMAC-SHA256 under LOOKUP_HMAC_KEY, "h1.…") and kept itself only sealed
 * under the user's DEK in `subject` (decision 0022), so after the key shred no
 * copy of D1 (Time Travel, an export) names the identity. Rows written before
 * hold the plain subject in `external_id`: lookups match either form until the
 * fields.seal_legacy sweep (field-migration.ts) converts them.
 */
import { and, eq, getTableColumns, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { deletedCredentials, ledger, tombstones, users } from "../db/schema";
import type { Config } from "../env";
import { newId } from "../lib/ids";
import { subjectDeletedAt } from "./deleted-credentials";
import { deletionHmacCandidates } from "./deletion-hmac";
import { isSealed, lookupHash, openField, sealField } from "./crypto/fields";
import type { Services } from "./types";
import { isBeingDeleted } from "./tombstones";

export type UserRow = typeof users.$inferSelect;

export const SUBJECT_LOOKUP_PREFIX = "h1.";

/** The keyed lookup stored in `users.external_id` and `tombstones.external_id` for a subject. */
export function subjectLookup(config: Pick<Config, "LOOKUP_HMAC_KEY">, subject: string): Promise<string> {
  return lookupHash(config, "subject", subject);
}

/** True when a stored `external_id` is a legacy plain subject (written before decision 0022). */
export const isLegacySubject = (stored: string): boolean => !stored.startsWith(SUBJECT_LOOKUP_PREFIX);

/** Matches a stored subject column against a subject: its keyed lookup, or the plain value a legacy row holds. */
export function subjectMatches(column: typeof users.externalId | typeof tombstones.externalId, lookup: string, subject: string) {
  return subject.startsWith(SUBJECT_LOOKUP_PREFIX) ? eq(column, lookup) : or(eq(column, lookup), eq(column, subject));
}

export async function findUserByExternalId(s: { db: Db; config: Pick<Config, "LOOKUP_HMAC_KEY"> }, externalId: string): Promise<UserRow | undefined> {
  const lookup = await subjectLookup(s.config, externalId);
  return s.db.select().from(users).where(subjectMatches(users.externalId, lookup, externalId)).get();
}

/**
 * The identity provider subject of a users row: `subject` opened with the
 * DEK, or a legacy row's plain `external_id`. null once the DEK is shredded.
 */
export async function subjectOf(s: Services, row: Pick<UserRow, "id" | "externalId" | "subject">): Promise<string | null> {
  if (isSealed(row.subject)) return openField(s, userRef(row.id, "subject"), row.subject);
  return isLegacySubject(row.externalId) ? row.externalId : null;
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
  s: { db: Db; config: Pick<Config, "MASTER_KEYS" | "LOOKUP_HMAC_KEY"> },
  externalId: string,
  now: number,
): Promise<SessionUser> {
  const lookup = await sessionUserLookup(s, externalId, now);
  return lookup.read(await lookup.statement);
}

export interface SessionUser {
  user: UserRow | undefined;
  deleting: boolean;
  deletedAt: number | null;
}

/**
 * findSessionUser in two halves: the one statement, to run alone or first in a
 * D1 batch with the route's own reads (worker/middleware/route-reads.ts), and
 * `read`, which turns its rows into the answer (with the by-subject lookups
 * when there is no row).
 */
export async function sessionUserLookup(s: { db: Db; config: Pick<Config, "MASTER_KEYS" | "LOOKUP_HMAC_KEY"> }, externalId: string, now: number) {
  const [lookups, lookup] = await subjectHashes(s.config, externalId);
  const statement = s.db
    .select({
      ...getTableColumns(users),
      deleting: sql<number>`exists (select 1 from ${tombstones} where ${tombstones.externalId} in (${lookup}, ${externalId}) or ${tombstones.userId} = ${users.id})`,
      deletedAt: sql<number | null>`(select max(${deletedCredentials.deletedAt}) from ${deletedCredentials} where ${inArray(deletedCredentials.lookup, lookups)} and ${deletedCredentials.expiresAt} > ${now})`,
    })
    .from(users)
    .where(subjectMatches(users.externalId, lookup, externalId))
    .limit(1);
  type Row = Awaited<typeof statement>[number];
  const read = async (rows: readonly Row[]): Promise<SessionUser> => {
    const row = rows[0];
    if (!row) {
      const [deleting, deletedAt] = await Promise.all([isBeingDeleted(s, { externalId: [lookup, externalId] }), subjectDeletedAt(s, externalId, now)]);
      return { user: undefined, deleting, deletedAt };
    }
    const { deleting, deletedAt, ...user } = row;
    return { user, deleting: Number(deleting) === 1, deletedAt: deletedAt === null ? null : Number(deletedAt) };
  };
  return { statement, read };
}

/**
 * The keyed hashes of a subject that the session lookup compares (its
 * deletion HMACs under every master key, its subject lookup), kept per
 * isolate and configuration for at most a minute, like a verified session
 * token (worker/auth/session-cache.ts): four HMACs a request otherwise.
 */
function subjectHashes(config: Pick<Config, "MASTER_KEYS" | "LOOKUP_HMAC_KEY">, subject: string): Promise<readonly [string[], string]> {
  let memo = subjectHashMemo.get(config);
  if (!memo) subjectHashMemo.set(config, (memo = new Map()));
  const now = Date.now();
  const hit = memo.get(subject);
  if (hit && now - hit.at < SUBJECT_HASH_TTL_MS) return hit.hashes;
  memo.delete(subject);
  const hashes = Promise.all([deletionHmacCandidates(config, "subject", subject), subjectLookup(config, subject)] as const);
  hashes.catch(() => memo.delete(subject));
  if (memo.size >= SUBJECT_HASH_MEMO) memo.delete(memo.keys().next().value ?? "");
  memo.set(subject, { at: now, hashes });
  return hashes;
}

const SUBJECT_HASH_MEMO = 1000;
const SUBJECT_HASH_TTL_MS = 60_000;
const subjectHashMemo = new WeakMap<object, Map<string, { at: number; hashes: Promise<readonly [string[], string]> }>>();

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
  const existing = await findUserByExternalId(s, externalId);
  if (existing) return { user: existing, created: false };
  const lookup = await subjectLookup(s.config, externalId);
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
    .where(and(eq(users.externalId, lookup), sql`${freeCredits} > 0`));
  await db.batch([
    db.insert(users).values({ id, externalId: lookup, email: null, createdAt: now }).onConflictDoNothing(),
    db.insert(ledger).select(grant).onConflictDoNothing(),
  ]);
  const user = await findUserByExternalId(s, externalId);
  if (!user) throw new Error("user creation failed");
  const created = user.id === id;
  if (!created) return { user, created };
  // The subject and the address are sealed under the new user's DEK, which exists only once the row has won any race.
  const sealedSubject = await sealField(s, userRef(id, "subject"), externalId);
  const sealedEmail = email ? await sealField(s, userRef(id, "email"), email) : null;
  await db.update(users).set({ subject: sealedSubject, email: sealedEmail }).where(eq(users.id, id));
  return { user: { ...user, subject: sealedSubject, email: sealedEmail }, created };
}

const userRef = (userId: string, column: "email" | "consent_version" | "subject") => ({ table: "users", column, rowId: userId, userId });

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
