/**
 * "Deleted means deleted" for credentials (issue 14 §4). When an account
 * deletion completes, its session subject and its API keys are remembered as
 * keyed hashes (services/deletion-hmac.ts) for as long as a credential issued
 * before the deletion could still be accepted; while remembered, such a
 * credential is answered `401 account_deleted` and never creates a user.
 *
 * The numbers (docs/data-rights.md, "Sessions after deletion"):
 * - session tokens live at most MAX_SESSION_TOKEN_LIFETIME_MS (Clerk's are 60 s;
 *   local ones at most 24 h; verifySession refuses any longer-lived token);
 * - issuers' clocks may differ from ours by CLOCK_SKEW_MS (Clerk's own
 *   verifyToken tolerance);
 * - so a token issued (iat) at or before deletedAt + skew is refused (the local
 *   provider signs with our own clock, so its skew is 0), and the
 *   subject is remembered for lifetime + 2 × skew after the deletion: by then
 *   every such token has expired. A token issued later (a new sign-up; local
 *   users keep their subject) starts a new, empty account.
 * - API keys are remembered until their own expiry, or API_KEY_MEMORY_MS for a
 *   key without one; afterwards such a key is just unknown (`401 unauthorized`).
 */
import { and, eq, gt, inArray, lte, max } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiKeys, deletedCredentials } from "../db/schema";
import type { Config } from "../env";
import { RETENTION } from "../lib/privacy-facts";
import { deletionHmac, deletionHmacCandidates } from "./deletion-hmac";

export const MAX_SESSION_TOKEN_LIFETIME_MS = RETENTION.sessionTokenMaxMs;
export const CLOCK_SKEW_MS = 5_000;
export const DELETED_SUBJECT_TTL_MS = MAX_SESSION_TOKEN_LIFETIME_MS + 2 * CLOCK_SKEW_MS;
export const API_KEY_MEMORY_MS = RETENTION.deletedApiKeyMemoryMs;

type Ctx = { db: Db; config: Pick<Config, "MASTER_KEYS"> };

/** The row remembering a deleted session subject (written in the deletion's last batch). */
export async function deletedSubjectRow(s: Ctx, externalId: string, now: number): Promise<typeof deletedCredentials.$inferInsert> {
  return deletedSubjectRowFor(await deletedSubjectLookup(s, externalId), now);
}

/** The keyed hash a deleted subject is remembered by (an account deletion computes it when it starts, while it holds the subject). */
export function deletedSubjectLookup(s: Pick<Ctx, "config">, externalId: string): Promise<string> {
  return deletionHmac(s.config, "subject", externalId);
}

/** The row remembering a deleted subject, from its keyed hash. */
export function deletedSubjectRowFor(lookup: string, now: number): typeof deletedCredentials.$inferInsert {
  return { lookup, deletedAt: now, expiresAt: now + DELETED_SUBJECT_TTL_MS };
}

/** Rows remembering the user's API keys that could still be presented (not expired). */
export async function deletedApiKeyRows(s: Ctx, userId: string, now: number): Promise<(typeof deletedCredentials.$inferInsert)[]> {
  const keys = await s.db.select({ hash: apiKeys.hash, expiresAt: apiKeys.expiresAt }).from(apiKeys).where(eq(apiKeys.userId, userId)).all();
  const rows: (typeof deletedCredentials.$inferInsert)[] = [];
  for (const k of keys) {
    if (k.expiresAt !== null && k.expiresAt <= now) continue;
    rows.push({ lookup: await deletionHmac(s.config, "api_key", k.hash), deletedAt: now, expiresAt: k.expiresAt ?? now + API_KEY_MEMORY_MS });
  }
  return rows;
}

/** When the account behind this subject was deleted, if that is still remembered; null otherwise. */
export async function subjectDeletedAt(s: Ctx, externalId: string, now: number): Promise<number | null> {
  const lookups = await deletionHmacCandidates(s.config, "subject", externalId);
  const row = await s.db
    .select({ at: max(deletedCredentials.deletedAt) })
    .from(deletedCredentials)
    .where(and(inArray(deletedCredentials.lookup, lookups), gt(deletedCredentials.expiresAt, now)))
    .get();
  return row?.at ?? null;
}

/**
 * True when a session token issued at `iatSeconds` predates the deletion
 * remembered at `deletedAt`. `skewMs` is how far the issuer's clock may run
 * ahead of ours: CLOCK_SKEW_MS for Clerk, 0 for the local identity provider,
 * which signs with this Worker's own clock.
 */
export function issuedBeforeDeletion(iatSeconds: number, deletedAt: number | null, skewMs: number = CLOCK_SKEW_MS): boolean {
  return deletedAt !== null && iatSeconds * 1000 <= deletedAt + skewMs;
}

/** True when this API key (by its stored SHA-256) belonged to an account deleted within memory. */
export async function apiKeyWasDeleted(s: Ctx, keyHash: string, now: number): Promise<boolean> {
  const lookups = await deletionHmacCandidates(s.config, "api_key", keyHash);
  const row = await s.db
    .select({ lookup: deletedCredentials.lookup })
    .from(deletedCredentials)
    .where(and(inArray(deletedCredentials.lookup, lookups), gt(deletedCredentials.expiresAt, now)))
    .get();
  return row !== undefined;
}

/** Sweep: forgets credentials that can no longer be valid. */
export async function purgeDeletedCredentials(s: { db: Db; now: () => number }): Promise<number> {
  const res = await s.db.delete(deletedCredentials).where(lte(deletedCredentials.expiresAt, s.now())).run();
  return res.meta.changes ?? 0;
}
