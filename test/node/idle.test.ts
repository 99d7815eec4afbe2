/**
 * Idle sign-out timing (issue 17, item 3; web/src/features/auth/idle.ts): the
 * SPA warns a minute before and signs out after the configured minutes
 * without interaction. The browser journey is test/e2e/session-guards.test.mjs.
 */
import { describe, expect, it } from "vitest";
import { idlePhase, idlePolicy, nextCheckIn, readLastActivity } from "../../web/src/features/auth/idle";

const MIN = 60_000;

describe("idle sign-out", () => {
  const policy = idlePolicy(30);

  it("is active until a minute before the timeout, warns for that minute, then expires", () => {
    const t0 = 1_000_000;
    expect(idlePhase(t0, t0 + 29 * MIN - 1, policy)).toBe("active");
    expect(idlePhase(t0, t0 + 29 * MIN, policy)).toBe("warning");
    expect(idlePhase(t0, t0 + 30 * MIN - 1, policy)).toBe("warning");
    expect(idlePhase(t0, t0 + 30 * MIN, policy)).toBe("expired");
  });

  it("checks again exactly when the warning is due, then every second until the sign-out", () => {
    const t0 = 5_000;
    expect(nextCheckIn(t0, t0 + 10 * MIN, policy)).toBe(19 * MIN);
    expect(nextCheckIn(t0, t0 + 29 * MIN + 500, policy)).toBe(1_000);
    expect(nextCheckIn(t0, t0 + 30 * MIN - 200, policy)).toBe(200);
  });

  it("a short timeout warns for half of it", () => {
    expect(idlePolicy(2)).toEqual({ timeoutMs: 2 * MIN, warnMs: MIN });
  });

  it("reads the last activity shared between tabs, or the fallback when missing or garbage", () => {
    expect(readLastActivity({ getItem: () => "1234" }, 9)).toBe(1234);
    expect(readLastActivity({ getItem: () => null }, 9)).toBe(9);
    expect(readLastActivity({ getItem: () => "soon" }, 9)).toBe(9);
  });
});
