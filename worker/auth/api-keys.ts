/**
 * Integrator API keys: `bp_` + 32 random bytes (base64url). Only the SHA-256
 * of the secret is stored, so a database leak yields no usable key.
 */
import { and, eq, getTableColumns, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { apiKeys, tombstones } from "../db/schema";
import { base64UrlEncode, sha256Hex } from "../lib/bytes";
import { keysetQuery, type KeysetCursor } from "../lib/cursor";
import { newId } from "../lib/ids";
import { openField, sealField } from "../services/crypto/fields";
import type { Services } from "../services/types";
import { SCOPES, type AuthContext, type Scope } from "./types";

export const KEY_PREFIX = "bp_";

export function generateApiKeySecret(): string {
  return KEY_PREFIX + base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

export function hashApiKey(secret: string): Promise<string> {
  return sha256Hex(secret);
}

const scopesSchema = z.array(z.enum(SCOPES));

export type ApiKeyAuth =
  | { ok: true; auth: AuthContext }
  | { ok: false; reason: "api-key-unknown" | "api-key-revoked" | "api-key-expired" | "account-being-deleted" };

/** `last_used_at` is kept to the minute, so a busy key does not cost a D1 write on every call. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export async function authenticateApiKey(db: Db, secret: string, now: number): Promise<ApiKeyAuth> {
  const hash = await hashApiKey(secret);
  // The key and whether its owner is mid-deletion (a tombstone) in one query.
  const found = await db
    .select({ ...getTableColumns(apiKeys), deleting: sql<number>`exists (select 1 from ${tombstones} where ${tombstones.userId} = ${apiKeys.userId})` })
    .from(apiKeys)
    .where(eq(apiKeys.hash, hash))
    .get();
  if (!found) return { ok: false, reason: "api-key-unknown" };
  const { deleting, ...row } = found;
  // Deletion first: it revokes the keys, and the answer for them is account_deleted.
  if (Number(deleting) === 1) return { ok: false, reason: "account-being-deleted" };
  if (row.revokedAt !== null) return { ok: false, reason: "api-key-revoked" };
  if (row.expiresAt !== null && row.expiresAt <= now) return { ok: false, reason: "api-key-expired" };
  if (row.lastUsedAt === null || now - row.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id));
  }
  const scopes = scopesSchema.safeParse(JSON.parse(row.scopes));
  return {
    ok: true,
    auth: {
      userId: row.userId,
      externalId: "",
      via: "api_key",
      actorId: row.id,
      scopes: new Set<Scope>(scopes.success ? scopes.data : []),
      isAdmin: false,
    },
  };
}

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Keys a user may hold at once (not revoked, not expired); bounds the per-key rate-limit budget too. */
export const MAX_ACTIVE_KEYS = 10;

/** Characters of the secret kept for display ("bp_" + 8): 48 of its 256 bits, useless to an attacker. */
export const DISPLAY_PREFIX_LENGTH = 11;

export type CreateApiKeyResult = { ok: true; row: ApiKeyRow; secret: string } | { ok: false; reason: "too-many-keys" };

/**
 * Creates a key and returns its secret, the only time it exists outside the
 * caller's hands (stored as SHA-256 only). The insert is conditional on the
 * user's active-key count so two racing creations cannot pass the cap.
 */
export async function createApiKey(
  s: Services,
  input: { userId: string; name: string; scopes: readonly Scope[]; expiresAt: number | null },
  now: number,
): Promise<CreateApiKeyResult> {
  const secret = generateApiKeySecret();
  const row: ApiKeyRow = {
    id: newId("key"),
    userId: input.userId,
    name: input.name,
    prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH),
    hash: await hashApiKey(secret),
    scopes: JSON.stringify([...new Set(input.scopes)]),
    createdAt: now,
    expiresAt: input.expiresAt,
    lastUsedAt: null,
    revokedAt: null,
  };
  // The name is text a person typed: sealed under their DEK (crypto/fields.ts); the answer carries it in clear.
  const sealedName = await sealField(s, apiKeyNameRef(row), row.name);
  const res = await s.db.run(sql`
    INSERT INTO api_keys (id, user_id, name, prefix, hash, scopes, created_at, expires_at, last_used_at, revoked_at)
    SELECT ${row.id}, ${row.userId}, ${sealedName}, ${row.prefix}, ${row.hash}, ${row.scopes}, ${row.createdAt}, ${row.expiresAt}, NULL, NULL
    WHERE (SELECT COUNT(*) FROM api_keys
           WHERE user_id = ${row.userId} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${now})) < ${MAX_ACTIVE_KEYS}`);
  if ((res.meta.changes ?? 0) === 0) return { ok: false, reason: "too-many-keys" };
  return { ok: true, row, secret };
}

const apiKeyNameRef = (row: Pick<ApiKeyRow, "id" | "userId">) => ({ table: "api_keys", column: "name", rowId: row.id, userId: row.userId });

/** The row with its name opened for the owner (either encoding; "" if it cannot be read). */
export async function openApiKeyRow<T extends Pick<ApiKeyRow, "id" | "userId" | "name">>(s: Services, row: T): Promise<T> {
  return { ...row, name: (await openField(s, apiKeyNameRef(row), row.name)) ?? "" };
}

/** The user's keys, newest first (revoked ones included, so the list explains past access). */
export async function listApiKeys(db: Db, userId: string, limit: number, before?: KeysetCursor): Promise<ApiKeyRow[]> {
  const q = keysetQuery(eq(apiKeys.userId, userId), apiKeys.createdAt, apiKeys.id, before ?? null);
  return db.select().from(apiKeys).where(q.where).orderBy(...q.orderBy).limit(limit).all();
}

export type RevokeResult = { ok: true; revokedNow: boolean; row: ApiKeyRow } | { ok: false };

/**
 * Revokes one of the user's keys. Ownership is part of the query, so another
 * user's key id behaves exactly like a missing one. Revoking twice is a no-op.
 */
export async function revokeApiKey(db: Db, userId: string, keyId: string, now: number): Promise<RevokeResult> {
  const updated = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), sql`${apiKeys.revokedAt} IS NULL`))
    .returning()
    .get();
  if (updated) return { ok: true, revokedNow: true, row: updated };
  const existing = await db.select().from(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId))).get();
  return existing ? { ok: true, revokedNow: false, row: existing } : { ok: false };
}

/** Scopes stored with a key; unknown names (from an older scope list) are dropped. */
export function parseScopes(stored: string): Scope[] {
  try {
    const parsed = z.array(z.string()).safeParse(JSON.parse(stored));
    if (!parsed.success) return [];
    const known: readonly string[] = SCOPES;
    return [...new Set(parsed.data)].filter((scope): scope is Scope => known.includes(scope));
  } catch {
    return [];
  }
}
