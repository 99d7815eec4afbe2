/**
 * Seals personal fields written before they were encrypted (issue 14 item 2,
 * docs/decisions/0012-encrypted-d1-fields.md). Readers take both encodings,
 * so there is no flag day: this cron sweep turns plain values into sealed
 * ones a page at a time, each UPDATE conditional on the value it read (a
 * concurrent write wins). Users whose deletion is under way are skipped: their
 * key is being shredded and must not be made again.
 *
 * Users rows from before decision 0022 get their plain subject turned into a
 * keyed lookup and a sealed copy (convertLegacySubjects).
 *
 * Audit entries are not rewritten: their hash chain covers the stored bytes
 * (docs/audit-log.md), so entries from before this change keep their plain IP
 * prefix and user agent until the account is deleted.
 */
import { and, eq, isNotNull, sql, type SQL } from "drizzle-orm";
import { logger } from "../lib/log";
import type { BatchItem } from "drizzle-orm/batch";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { apiKeys, generations, tombstones, users } from "../db/schema";
import { FIELD_PREFIX, sealField } from "./crypto/fields";
import type { Services } from "./types";
import { SUBJECT_LOOKUP_PREFIX, subjectLookup } from "./users";

interface LegacyColumn {
  table: typeof users | typeof generations | typeof apiKeys;
  tableName: string;
  columnName: string;
  id: SQLiteColumn;
  userId: SQLiteColumn;
  value: SQLiteColumn;
  /** The conditional UPDATE: only if the cell still holds what was read. */
  update: (db: Db, id: string, old: string, sealed: string) => BatchItem<"sqlite">;
}

/** Every column crypto/fields.ts seals, except the append-only audit log. */
const LEGACY: readonly LegacyColumn[] = [
  {
    table: users, tableName: "users", columnName: "email", id: users.id, userId: users.id, value: users.email,
    update: (db, id, old, sealed) => db.update(users).set({ email: sealed }).where(and(eq(users.id, id), eq(users.email, old))),
  },
  {
    table: users, tableName: "users", columnName: "consent_version", id: users.id, userId: users.id, value: users.consentVersion,
    update: (db, id, old, sealed) => db.update(users).set({ consentVersion: sealed }).where(and(eq(users.id, id), eq(users.consentVersion, old))),
  },
  {
    table: generations, tableName: "generations", columnName: "options", id: generations.id, userId: generations.userId, value: generations.options,
    update: (db, id, old, sealed) => db.update(generations).set({ options: sealed }).where(and(eq(generations.id, id), eq(generations.options, old))),
  },
  {
    table: apiKeys, tableName: "api_keys", columnName: "name", id: apiKeys.id, userId: apiKeys.userId, value: apiKeys.name,
    update: (db, id, old, sealed) => db.update(apiKeys).set({ name: sealed }).where(and(eq(apiKeys.id, id), eq(apiKeys.name, old))),
  },
];

const plain = (col: SQLiteColumn): SQL => sql`substr(${col}, 1, ${FIELD_PREFIX.length}) <> ${FIELD_PREFIX}`;

/** One page per column; returns how many values were sealed. */
export async function sealLegacyFields(s: Services, pageSize = 100): Promise<{ sealed: number }> {
  let sealed = 0;
  for (const c of LEGACY) {
    const rows = await s.db
      .select({ id: sql<string>`${c.id}`, userId: sql<string>`${c.userId}`, value: sql<string>`${c.value}` })
      .from(c.table)
      .where(and(isNotNull(c.value), plain(c.value), sql`NOT EXISTS (SELECT 1 FROM ${tombstones} WHERE ${tombstones.userId} = ${c.userId})`))
      .limit(pageSize)
      .all();
    const updates = [];
    for (const r of rows) {
      const value = await sealField(s, { table: c.tableName, column: c.columnName, rowId: r.id, userId: r.userId }, r.value);
      if (value === null) continue;
      updates.push(c.update(s.db, r.id, r.value, value));
    }
    const [first, ...more] = updates;
    if (first) {
      await s.db.batch([first, ...more]);
      sealed += updates.length;
    }
  }
  sealed += await convertLegacySubjects(s, pageSize);
  if (sealed) logger.info("fields.sealed_legacy", { sealed });
  return { sealed };
}

/**
 * Users rows from before decision 0022 hold the plain identity provider
 * subject in `external_id`. Each becomes its keyed lookup there and the
 * sealed subject in `subject`, in one conditional UPDATE (sign-in matches
 * either form meanwhile, services/users.ts). One page per run.
 */
async function convertLegacySubjects(s: Services, pageSize: number): Promise<number> {
  const rows = await s.db
    .select({ id: users.id, externalId: users.externalId })
    .from(users)
    .where(and(sql`substr(${users.externalId}, 1, ${SUBJECT_LOOKUP_PREFIX.length}) <> ${SUBJECT_LOOKUP_PREFIX}`, sql`NOT EXISTS (SELECT 1 FROM ${tombstones} WHERE ${tombstones.userId} = ${users.id})`))
    .limit(pageSize)
    .all();
  const updates = [];
  for (const r of rows) {
    const subject = await sealField(s, { table: "users", column: "subject", rowId: r.id, userId: r.id }, r.externalId);
    if (subject === null) continue;
    const lookup = await subjectLookup(s.config, r.externalId);
    updates.push(s.db.update(users).set({ externalId: lookup, subject }).where(and(eq(users.id, r.id), eq(users.externalId, r.externalId))));
  }
  const [first, ...more] = updates;
  if (first) await s.db.batch([first, ...more]);
  return updates.length;
}
