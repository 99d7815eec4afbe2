/**
 * Idle sign-out (OWASP ASVS 4.0 V3.3.2: an inactivity timeout): the pure part.
 * Activity in any tab of the app counts, through localStorage, so a user busy
 * in one tab is not signed out by another.
 */

export type IdlePhase = "active" | "warning" | "expired";

export interface IdlePolicy {
  timeoutMs: number;
  /** How long before the sign-out the warning shows. */
  warnMs: number;
}

export function idlePolicy(timeoutMinutes: number): IdlePolicy {
  const timeoutMs = timeoutMinutes * 60_000;
  return { timeoutMs, warnMs: Math.min(60_000, timeoutMs / 2) };
}

export function idlePhase(lastActivityMs: number, nowMs: number, policy: IdlePolicy): IdlePhase {
  const idle = nowMs - lastActivityMs;
  if (idle >= policy.timeoutMs) return "expired";
  if (idle >= policy.timeoutMs - policy.warnMs) return "warning";
  return "active";
}

/** Milliseconds until the phase may next change. */
export function nextCheckIn(lastActivityMs: number, nowMs: number, policy: IdlePolicy): number {
  const idle = nowMs - lastActivityMs;
  const warnAt = policy.timeoutMs - policy.warnMs;
  if (idle < warnAt) return warnAt - idle;
  return Math.max(0, Math.min(1_000, policy.timeoutMs - idle));
}

export const LAST_ACTIVITY_KEY = "babypic.lastActivity";
/** Set (sessionStorage) when the idle timer signed the user out. */
export const IDLE_SIGNED_OUT_KEY = "babypic.idleSignedOut";

export function readLastActivity(storage: Pick<Storage, "getItem">, fallback: number): number {
  const n = Number(storage.getItem(LAST_ACTIVITY_KEY));
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
