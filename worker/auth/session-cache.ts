/**
 * A per-isolate cache of verified session tokens (docs/decisions/0026), so a
 * browser polling with the same token skips the signature check and, knowing
 * the user from the last request, can count its rate limit alongside the user
 * lookup (worker/middleware/auth.ts).
 *
 * What it does not skip: the user lookup with its deletion checks runs on
 * every request, and the session's age is checked against the clock each
 * time. Only successful verifications are stored, keyed by a SHA-256 of the
 * verification key, the authorized parties and the token (never the raw
 * token); an entry expires at the token's `exp` or after CACHE_TTL_MS, whichever
 * is first, and is dropped when its account is found deleted or being deleted.
 */
import type { Config } from "../env";
import { sha256Hex } from "../lib/bytes";
import { authorizedParties, type SessionResult } from "./session";

/** The longest a verified token is trusted without checking its signature again. */
export const CACHE_TTL_MS = 60_000;

/** Bound on entries per isolate; the oldest go first. */
const MAX_ENTRIES = 2_000;

type Verified = Extract<SessionResult, { ok: true }>;

interface Entry {
  result: Verified;
  /** Our user id, once a lookup found one for this token. */
  userId: string | null;
  expiresAt: number;
}

const entries = new Map<string, Entry>();

/** The cache key of a token: not the token itself, and bound to the key and parties it was verified with. */
export function sessionCacheKey(token: string, config: Pick<Config, "CLERK_JWT_KEY" | "CLERK_AUTHORIZED_PARTIES" | "APP_ORIGIN">): Promise<string> {
  return sha256Hex(JSON.stringify(["session-cache-v1", config.CLERK_JWT_KEY, authorizedParties(config), token]));
}

/** A still-valid verification of this token, or undefined. */
export function cachedSession(key: string, now: number): { result: Verified; userId: string | null } | undefined {
  const hit = entries.get(key);
  if (!hit) return undefined;
  if (hit.expiresAt <= now) {
    entries.delete(key);
    return undefined;
  }
  return { result: hit.result, userId: hit.userId };
}

/** Stores a successful verification until min(exp, first stored + CACHE_TTL_MS). Failures are never stored. */
export function rememberSession(key: string, result: Verified, userId: string, now: number): void {
  const exp = result.claims["exp"];
  if (typeof exp !== "number") return;
  // A hit does not extend the entry: the signature is checked again at least every CACHE_TTL_MS.
  const expiresAt = entries.get(key)?.expiresAt ?? Math.min(exp * 1000, now + CACHE_TTL_MS);
  if (expiresAt <= now) return;
  entries.delete(key);
  entries.set(key, { result, userId, expiresAt });
  while (entries.size > MAX_ENTRIES) {
    const oldest = entries.keys().next();
    if (oldest.done) break;
    entries.delete(oldest.value);
  }
}

/** Drops one token's entry (its account was found deleted, or the lookup disagreed). */
export function forgetSession(key: string): void {
  entries.delete(key);
}

/** Drops every entry of a user (account deletion in this isolate). */
export function forgetSessionsOf(userId: string): void {
  for (const [key, entry] of entries) if (entry.userId === userId) entries.delete(key);
}

/** The cache keys held now (for tests: none may be a raw token). */
export function sessionCacheKeys(): string[] {
  return [...entries.keys()];
}
