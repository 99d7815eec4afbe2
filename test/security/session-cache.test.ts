/**
 * The per-isolate cache of verified session tokens (docs/decisions/0026):
 * it may skip the signature check, never the account's deletion checks or the
 * token's expiry; it stores no failure and never holds a raw token.
 */
import { describe, expect, it } from "vitest";
import { cachedSession, CACHE_TTL_MS, sessionCacheKey, sessionCacheKeys } from "../../worker/auth/session-cache";
import { tombstones } from "../../worker/db/schema";
import { subjectLookup } from "../../worker/services/users";
import { localSubject } from "../../worker/auth/local-idp";
import { api, expectProblem, services, signInWithoutConsent, tokenFor } from "../helpers";

const nowSeconds = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A /v1/me call that must succeed, leaving the token in the cache. */
async function cachedMe(token: string): Promise<string> {
  expect((await api("/v1/me", { token })).status).toBe(200);
  const key = await sessionCacheKey(token, services().config);
  expect(cachedSession(key, Date.now())).toBeDefined();
  return key;
}

describe("session token cache: security", () => {
  it("a cached token of an account whose deletion started elsewhere (no cache drop here) is refused, and dropped", async () => {
    const user = "cache-deleted-1";
    const userId = await signInWithoutConsent(user);
    const token = await tokenFor(user);
    const key = await cachedMe(token);
    // What a deletion in another isolate leaves: a tombstone in D1, this isolate's cache untouched.
    const s = services();
    await s.db.insert(tombstones).values({ userId, externalId: await subjectLookup(s.config, localSubject(user)), stage: "started", createdAt: Date.now(), updatedAt: Date.now() });
    await expectProblem(await api("/v1/me", { token }), 401, "account_deleted");
    await expectProblem(await api(`/v1/generations/gen_${"0".repeat(32)}`, { token }), 401, "account_deleted");
    expect(cachedSession(key, Date.now())).toBeUndefined();
  });

  it("a cached token of an account deleted through the API is refused", async () => {
    const user = "cache-deleted-2";
    await signInWithoutConsent(user);
    const token = await tokenFor(user);
    await cachedMe(token);
    const deleted = await api("/v1/account", { method: "DELETE", token, headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) });
    expect(deleted.status).toBe(200);
    await expectProblem(await api("/v1/me", { token }), 401, "account_deleted");
  });

  it("an expired token is refused even though it was cached, and its entry never outlives exp", async () => {
    const user = "cache-expired";
    await signInWithoutConsent(user);
    // Valid for 2 more seconds: the entry must end at exp, not CACHE_TTL_MS later.
    const now = nowSeconds();
    const token = await tokenFor(user, { nowSeconds: now - 58, ttlSeconds: 60 });
    const key = await cachedMe(token);
    const exp = (now + 2) * 1000;
    expect(cachedSession(key, exp - 1)).toBeDefined();
    expect(cachedSession(key, exp)).toBeUndefined();
    // Past exp and the verifier's clock-skew allowance (Clerk's 5 s), the token is refused.
    await sleep(exp + 5_500 - Date.now());
    await expectProblem(await api("/v1/me", { token }), 401, "unauthorized");
  }, 20_000);

  it("an entry lasts at most CACHE_TTL_MS from its first verification however long the token is valid and however often it is used", async () => {
    const user = "cache-ttl";
    await signInWithoutConsent(user);
    const token = await tokenFor(user, { ttlSeconds: 3_600 });
    const key = await cachedMe(token);
    const stored = Date.now();
    // Later uses of the token do not extend the entry.
    await sleep(50);
    expect((await api("/v1/me", { token })).status).toBe(200);
    expect(cachedSession(key, stored + CACHE_TTL_MS - 1_000)).toBeDefined();
    expect(cachedSession(key, stored + CACHE_TTL_MS)).toBeUndefined();
  });

  it("the cache key is a SHA-256, not the raw token or any part of it", async () => {
    const token = await tokenFor("cache-key");
    const key = await cachedMe(token);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const keys = sessionCacheKeys();
    expect(keys).toContain(key);
    const [header, payload, signature] = token.split(".");
    for (const k of keys) {
      expect(k).toMatch(/^[0-9a-f]{64}$/);
      for (const part of [token, header, payload, signature]) expect(k.includes(part ?? "")).toBe(false);
    }
  });

  it("a failed verification is not cached", async () => {
    const good = await tokenFor("cache-fail");
    const bad = `${good.slice(0, -4)}AAAA`;
    const before = sessionCacheKeys().length;
    await expectProblem(await api("/v1/me", { token: bad }), 401, "unauthorized");
    expect(cachedSession(await sessionCacheKey(bad, services().config), Date.now())).toBeUndefined();
    expect(sessionCacheKeys().length).toBe(before);
  });
});
