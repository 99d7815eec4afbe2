/**
 * Deleted means deleted for credentials (issue 14 §4): a session token or API
 * key issued before an account's deletion is answered `401 account_deleted`
 * and creates nothing; a token issued after it starts a new, empty account
 * (local users keep their subject, as a new Clerk sign-up gets a new one);
 * the memory of the deleted subject is a keyed hash that expires.
 */
import { env } from "cloudflare:test";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { hashApiKey } from "../../worker/auth/api-keys";
import { localSubject } from "../../worker/auth/local-idp";
import { deletedCredentials, ledger, users } from "../../worker/db/schema";
import { sha256Hex } from "../../worker/lib/bytes";
import { CLOCK_SKEW_MS, DELETED_SUBJECT_TTL_MS, issuedBeforeDeletion, MAX_SESSION_TOKEN_LIFETIME_MS } from "../../worker/services/deleted-credentials";
import { deleteAccount } from "../../worker/services/deletion";
import { deletionHmac } from "../../worker/services/deletion-hmac";
import { runSweeps } from "../../worker/scheduled";
import { findUserByExternalId, subjectLookup } from "../../worker/services/users";
import { api, expectProblem, json, services, tokenFor } from "../helpers";
import { DAY_MS, MINUTE, seedAccount } from "./fixtures";

const CONFIRM = { method: "DELETE", headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) } as const;
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function tableCounts(): Promise<{ users: number; ledger: number }> {
  const db = services().db;
  const u = await db.select({ n: count() }).from(users).get();
  const l = await db.select({ n: count() }).from(ledger).get();
  return { users: u?.n ?? 0, ledger: l?.n ?? 0 };
}

describe("credentials after account deletion: security", () => {
  it("a session token issued before the deletion gets 401 account_deleted on every route and creates no user or credits", async () => {
    const a = await seedAccount("old-session-1", 31);
    const old = await tokenFor(a.user);
    expect((await api("/v1/account", { ...CONFIRM, token: old })).status).toBe(200);
    const before = await tableCounts();

    const body = await expectProblem(await api("/v1/me", { token: old }), 401, "account_deleted");
    expect(String(body["detail"])).toMatch(/deleted/);
    await expectProblem(await api("/v1/generations", { token: old }), 401, "account_deleted");
    await expectProblem(await api("/v1/photos", { token: old }), 401, "account_deleted");
    await expectProblem(await api("/v1/me/consent", { method: "POST", token: old, headers: { "content-type": "application/json" }, body: "{}" }), 401, "account_deleted");

    expect(await tableCounts()).toEqual(before);
    expect(await findUserByExternalId(services(), a.externalId)).toBeUndefined();
  });

  it("an API key of the deleted account gets 401 account_deleted, then (after its memory expires) 401 unauthorized like any unknown key", async () => {
    const a = await seedAccount("old-key-1", 32);
    expect((await api("/v1/me", { token: a.apiKeySecret })).status).toBe(200);
    expect((await api("/v1/account", { ...CONFIRM, user: a.user })).status).toBe(200);
    const before = await tableCounts();
    await expectProblem(await api("/v1/me", { token: a.apiKeySecret }), 401, "account_deleted");
    await expectProblem(await api("/v1/generations", { token: a.apiKeySecret }), 401, "account_deleted");
    expect(await tableCounts()).toEqual(before);

    // The key itself is gone; only a keyed hash of it is remembered, and only until it expires.
    const lookup = await deletionHmac(services().config, "api_key", await hashApiKey(a.apiKeySecret));
    const row = await services().db.select().from(deletedCredentials).where(eq(deletedCredentials.lookup, lookup)).get();
    expect(row?.expiresAt).toBeGreaterThan(Date.now() + 29 * DAY_MS);
    await services().db.update(deletedCredentials).set({ expiresAt: Date.now() - 1 }).where(eq(deletedCredentials.lookup, lookup));
    await expectProblem(await api("/v1/me", { token: a.apiKeySecret }), 401, "unauthorized");
  });

  it("while the deletion is still running, sessions and API keys get 401 account_deleted", async () => {
    const a = await seedAccount("mid-delete-1", 33);
    const res = await deleteAccount(services(), a.userId, {
      source: "user",
      retryViaQueue: false,
      afterStage: (stage) => {
        if (stage === "api_keys_revoked") throw new Error("injected crash");
      },
    });
    expect(res?.status).toBe("pending");
    await expectProblem(await api("/v1/me", { user: a.user }), 401, "account_deleted");
    await expectProblem(await api("/v1/me", { token: a.apiKeySecret }), 401, "account_deleted");
    await runSweeps(services({ now: () => Date.now() + 5 * MINUTE }));
  });

  it("the deleted subject is remembered only as an HMAC under a service secret, never the subject or its plain hash", async () => {
    const a = await seedAccount("hmac-1", 34);
    const before = new Set((await services().db.select().from(deletedCredentials).all()).map((r) => r.lookup));
    expect((await api("/v1/account", { ...CONFIRM, user: a.user })).status).toBe(200);
    const rows = (await services().db.select().from(deletedCredentials).all()).filter((r) => !before.has(r.lookup));
    expect(rows).toHaveLength(2); // the subject and the one API key
    const text = JSON.stringify(rows);
    for (const plain of [a.externalId, a.userId, await sha256Hex(a.externalId), await sha256Hex(`subject|${a.externalId}`), await hashApiKey(a.apiKeySecret)]) {
      expect(text).not.toContain(plain);
    }
    const expected = await deletionHmac(services().config, "subject", a.externalId);
    expect(rows.map((r) => r.lookup)).toContain(expected);
    // Under another secret the same subject gives another value: the secret is what makes it a keyed hash.
    const other = { MASTER_KEYS: { current: "x", keys: { x: btoa(String.fromCharCode(...new Uint8Array(32).fill(7))) } } };
    expect(await deletionHmac(other, "subject", a.externalId)).not.toBe(expected);
  });
});

describe("credentials after account deletion: happy", () => {
  it("a token issued after the deletion starts a new, empty account with a new internal id; the old token stays refused", async () => {
    const a = await seedAccount("new-after-1", 35);
    const old = await tokenFor(a.user, { nowSeconds: nowSeconds() - 120 });
    // The deletion completed a minute ago (services' clock), so a token made now was issued after it.
    const res = await deleteAccount(services({ now: () => Date.now() - MINUTE }), a.userId, { source: "user" });
    expect(res?.status).toBe("deleted");

    const me = await json<{ id: string; credits: number; consent: unknown }>(await api("/v1/me", { user: a.user }));
    expect(me.id).toMatch(/^usr_/);
    expect(me.id).not.toBe(a.userId);
    expect(me.credits).toBe(Number(env.FREE_CREDITS));
    expect(me.consent).toBeNull();
    expect((await json<{ items: unknown[] }>(await api("/v1/generations", { user: a.user }))).items).toEqual([]);
    expect((await json<{ photos: unknown[] }>(await api("/v1/photos", { user: a.user }))).photos).toEqual([]);

    // The token from before the deletion cannot act on the new account either.
    await expectProblem(await api("/v1/me", { token: old }), 401, "account_deleted");
    expect((await services().db.select().from(users).where(eq(users.externalId, await subjectLookup(services().config, localSubject(a.user)))).all()).map((u) => u.id)).toEqual([me.id]);
  });
});

describe("credentials after account deletion: expiry", () => {
  it("the memory lasts the longest token lifetime plus clock skew, is ignored once expired and purged by the sweep", async () => {
    const a = await seedAccount("expiry-1", 36);
    const t0 = Date.now();
    const res = await deleteAccount(services({ now: () => t0 }), a.userId, { source: "user" });
    expect(res?.status).toBe("deleted");
    const lookup = await deletionHmac(services().config, "subject", a.externalId);
    const row = await services().db.select().from(deletedCredentials).where(eq(deletedCredentials.lookup, lookup)).get();
    expect(row?.deletedAt).toBe(t0);
    expect((row?.expiresAt ?? 0) - t0).toBe(DELETED_SUBJECT_TTL_MS);
    expect(DELETED_SUBJECT_TTL_MS).toBeGreaterThanOrEqual(MAX_SESSION_TOKEN_LIFETIME_MS + CLOCK_SKEW_MS);

    // A token living longer than the bound is refused outright, so none can outlive the memory.
    const tooLong = await tokenFor(a.user, { nowSeconds: nowSeconds() - 60, ttlSeconds: MAX_SESSION_TOKEN_LIFETIME_MS / 1000 + 120 });
    await expectProblem(await api("/v1/me", { token: tooLong }), 401, "unauthorized");

    // Still remembered: a token from before the deletion is refused.
    const old = await tokenFor(a.user, { nowSeconds: nowSeconds() - 30 });
    await expectProblem(await api("/v1/me", { token: old }), 401, "account_deleted");
    // Once the memory has expired it is no longer consulted (here forced by moving its expiry into the past).
    await services().db.update(deletedCredentials).set({ expiresAt: Date.now() - 1 }).where(eq(deletedCredentials.lookup, lookup));
    const fresh = await json<{ id: string }>(await api("/v1/me", { token: old }));
    expect(fresh.id).not.toBe(a.userId);

    // The sweep forgets expired entries and keeps live ones.
    const results = await runSweeps(services({ now: () => Date.now() + MINUTE }));
    expect(results.find((r) => r.name === "account.deleted-credentials")?.ok).toBe(true);
    expect(await services().db.select().from(deletedCredentials).where(eq(deletedCredentials.lookup, lookup)).get()).toBeUndefined();
  });
});

describe("credentials after account deletion: boundaries", () => {
  it("a token issued in or before the second of the deletion is old; Clerk's get 5 s of clock skew, the local provider's (our own clock) none", () => {
    const deletedAt = 1_900_000_000_300; // .3 s into a second
    const second = Math.floor(deletedAt / 1000);
    expect(issuedBeforeDeletion(second - 1, deletedAt, 0)).toBe(true);
    expect(issuedBeforeDeletion(second, deletedAt, 0)).toBe(true);
    expect(issuedBeforeDeletion(second + 1, deletedAt, 0)).toBe(false);
    expect(issuedBeforeDeletion(second + 5, deletedAt)).toBe(true);
    expect(issuedBeforeDeletion(second + 6, deletedAt)).toBe(false);
    expect(CLOCK_SKEW_MS).toBe(5_000);
    expect(issuedBeforeDeletion(second - 1, null)).toBe(false);
  });
});
