/**
 * Maximum session lifetime (issue 17, item 3; docs/decisions/0014): the
 * Worker refuses a session token whose session is older than
 * SESSION_MAX_MINUTES (default 720), judged from Clerk's `fva` and the
 * token's `iat`, with the same 401 problem as any refused credential.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { sessionAgeMinutes } from "../../worker/auth/step-up";
import { securityLog } from "../../worker/db/schema";
import { DEFAULT_SESSION_MAX_MINUTES, loadConfig } from "../../worker/env";
import { api, expectProblem, services, signIn, tokenFor } from "../helpers";

const now = () => Math.floor(Date.now() / 1000);
const signedInAgo = (minutes: number) => tokenFor("alice", { verifiedAtSeconds: now() - minutes * 60 });

beforeAll(async () => {
  await signIn("alice");
});

describe("session lifetime", () => {
  it("the default maximum is 720 minutes", () => {
    expect(DEFAULT_SESSION_MAX_MINUTES).toBe(720);
    expect(loadConfig(env).SESSION_MAX_MINUTES).toBe(720);
  });

  it("a session signed in 719 minutes ago still works; at 720 it is refused with 401 and a security log entry", async () => {
    expect((await api("/v1/me", { token: await signedInAgo(719) })).status).toBe(200);
    const res = await api("/v1/me", { token: await signedInAgo(720) });
    await expectProblem(res, 401, "unauthorized");
    const logged = await services()
      .db.select()
      .from(securityLog)
      .where(and(eq(securityLog.kind, "auth_failed"), eq(securityLog.requestId, res.headers.get("x-request-id") ?? "")))
      .get();
    expect(JSON.parse(logged?.detail ?? "{}")).toMatchObject({ reason: "session-too-old" });
  });

  it("an old token counts by its own age even if its fva says 'just verified'", async () => {
    const old = await tokenFor("alice", { nowSeconds: now() - 721 * 60, ttlSeconds: 86_400 });
    await expectProblem(await api("/v1/me", { token: old }), 401, "unauthorized");
  });

  it("a second factor's age bounds the session when the first factor is -1; a token that bounds nothing is refused", async () => {
    expect((await api("/v1/me", { token: await tokenFor("alice", { claims: { fva: [-1, 3] } }) })).status).toBe(200);
    await expectProblem(await api("/v1/me", { token: await tokenFor("alice", { claims: { fva: [-1, 721] } }) }), 401, "unauthorized");
    await expectProblem(await api("/v1/me", { token: await tokenFor("alice", { claims: { fva: undefined } }) }), 401, "unauthorized");
    await expectProblem(await api("/v1/me", { token: await tokenFor("alice", { claims: { iat: "yesterday" } }) }), 401, "unauthorized");
  });

  it("SESSION_MAX_MINUTES configures the limit", async () => {
    const app = createApp();
    const short = { ...env, SESSION_MAX_MINUTES: "30" };
    const call = async (token: string) => app.request("/v1/me", { headers: { authorization: `Bearer ${token}` } }, short);
    expect((await call(await signedInAgo(29))).status).toBe(200);
    expect((await call(await signedInAgo(31))).status).toBe(401);
    expect(() => loadConfig({ ...env, SESSION_MAX_MINUTES: "five" })).toThrow(/SESSION_MAX_MINUTES/);
  });

  it("sessionAgeMinutes is the larger of the sign-in check's age and the token's age", () => {
    const t = now();
    expect(sessionAgeMinutes({ iat: t - 120, fva: [5, -1] }, t * 1000)).toBe(7);
    expect(sessionAgeMinutes({ iat: t - 600, fva: [0, 0] }, t * 1000)).toBe(10);
    expect(sessionAgeMinutes({ iat: t, fva: [-1, -1] }, t * 1000)).toBeNull();
  });
});
