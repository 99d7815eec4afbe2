/**
 * A flood of bad credentials from one address is refused cheaply: after the
 * per-IP budget for failed authentications, callers get 429 with Retry-After
 * and no further security-log rows are written, while other addresses and
 * valid credentials are unaffected.
 */
import { env } from "cloudflare:test";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { securityLog } from "../../worker/db/schema";
import type { Bindings } from "../../worker/env";
import { API, expectProblem, services, tokenFor } from "../helpers";

function fakeIpBinding(allow: number) {
  const counts = new Map<string, number>();
  const binding: RateLimit = {
    async limit({ key }) {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { success: n <= allow };
    },
  };
  return binding;
}

async function authFailures(): Promise<number> {
  const row = await services().db.select({ n: count() }).from(securityLog).where(eq(securityLog.kind, "auth_failed")).get();
  return row?.n ?? 0;
}

describe("failed authentication flood", () => {
  it("is cut off per address after the budget, without more log writes", async () => {
    const app = createApp();
    const bindings: Bindings = { ...env, RL_IP: fakeIpBinding(3) };
    const call = (ip: string, authorization?: string) =>
      app.request(`${API}/v1/me`, { headers: { "cf-connecting-ip": ip, ...(authorization ? { authorization } : {}) } }, bindings);

    const before = await authFailures();
    for (let i = 0; i < 3; i++) await expectProblem(await call("203.0.113.7", "Bearer not-a-valid-token"), 401, "unauthorized");
    expect(await authFailures()).toBe(before + 3);

    for (let i = 0; i < 5; i++) {
      const res = await call("203.0.113.7", "Bearer not-a-valid-token");
      await expectProblem(res, 429, "rate_limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(await authFailures()).toBe(before + 3);

    // Another address still gets its own answer, and a valid token is never counted.
    await expectProblem(await call("198.51.100.9"), 401, "unauthorized");
    const ok = await call("203.0.113.7", `Bearer ${await tokenFor("alice")}`);
    expect(ok.status).toBe(200);
  });
});
