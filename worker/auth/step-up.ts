/**
 * Step-up verification (OWASP ASVS 4.0 V3.7.1: re-authenticate before
 * sensitive operations) from Clerk's `fva` session claim, "factor
 * verification age": `[minutes since the first factor was verified, minutes
 * since the second factor was verified]`, -1 for a factor never verified in
 * this session (https://clerk.com/docs/guides/sessions/session-tokens).
 *
 * The rule is Clerk's own `strict` reverification preset (level
 * `second_factor`, 10 minutes), evaluated the way `@clerk/shared`'s
 * `checkReverificationAuthorization` does: a user with a second factor must
 * have verified it within the window, a user without one their first factor.
 * The refusal carries Clerk's `reverificationError()` body beside our problem
 * fields, so the SPA's `useReverification()` recognises it, opens Clerk's
 * verification modal and retries the request (docs/decisions/0014-step-up-and-session-age.md);
 * that refusal is built by the HTTP layer (middleware/auth.ts `reverificationRequired`).
 */
import type { Check } from "../lib/result";

export const STEP_UP_LEVEL = "second_factor" as const;
export const STEP_UP_AFTER_MINUTES = 10;

export type FactorAges = readonly [number, number];

/** The `fva` claim, or null when absent or malformed (never verified, as far as we can tell). */
export function parseFactorAges(claim: unknown): FactorAges | null {
  if (!Array.isArray(claim) || claim.length !== 2) return null;
  const [a, b] = claim as unknown[];
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= -1;
  return ok(a) && ok(b) ? [a, b] : null;
}

/**
 * Ages at the time of the request: the claim says how old each verification
 * was when the token was issued (`iat`), so the token's own age is added.
 * Clerk's tokens live 60 seconds; the local provider's up to an hour.
 */
export function agesNow(ages: FactorAges, iatSeconds: number | null, nowMs: number): FactorAges {
  const tokenAgeMinutes = iatSeconds === null ? 0 : Math.max(0, Math.floor((nowMs / 1000 - iatSeconds) / 60));
  const add = (n: number) => (n === -1 ? -1 : n + tokenAgeMinutes);
  return [add(ages[0]), add(ages[1])];
}

export type StepUpResult = Check<"no-factor-age" | "first-factor-stale" | "second-factor-stale">;

/** Clerk's `second_factor` level with `afterMinutes` (strict: 10). */
export function checkStepUp(ages: FactorAges | null, afterMinutes = STEP_UP_AFTER_MINUTES): StepUpResult {
  if (!ages) return { ok: false, reason: "no-factor-age" };
  const [first, second] = ages;
  if (first === -1 && second === -1) return { ok: false, reason: "no-factor-age" };
  const fresh = (n: number) => n !== -1 && n < afterMinutes;
  if (second === -1) return fresh(first) ? { ok: true } : { ok: false, reason: "first-factor-stale" };
  return fresh(second) ? { ok: true } : { ok: false, reason: "second-factor-stale" };
}

/**
 * A lower bound on the session's age in minutes, or null when the token
 * cannot bound it. Clerk's default claims carry no session start time: `iat`
 * is the issue time of a 60-second token that is re-issued every minute, and
 * `sid` is an opaque id. The age of the first factor's verification (`fva[0]`,
 * or the second's when the first is -1) is the closest: it starts at sign-in
 * and only a fresh verification resets it. The token's own age is a bound too.
 */
export function sessionAgeMinutes(claims: Record<string, unknown>, nowMs: number): number | null {
  const iat = typeof claims["iat"] === "number" ? claims["iat"] : null;
  const ages = parseFactorAges(claims["fva"]);
  if (!ages || iat === null) return null;
  const [first, second] = agesNow(ages, iat, nowMs);
  const verified = first !== -1 ? first : second;
  if (verified === -1) return null;
  return Math.max(verified, Math.floor((nowMs / 1000 - iat) / 60));
}
