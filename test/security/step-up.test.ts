/**
 * Step-up verification (issue 17, item 2; worker/auth/step-up.ts): deleting
 * the account, creating a write-scoped API key, revoking a key, changing how
 * long parent photos are kept, granting support access and downloading an
 * export need a sign-in check within the last 10 minutes (Clerk's `fva`).
 * Otherwise: 403 `reverification_required` carrying Clerk's reverification
 * hint, and nothing changes.
 */
import { isReverificationHint } from "@clerk/shared/authorization-errors";
import { createCheckAuthorization } from "@clerk/shared/authorization";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { agesNow, checkStepUp } from "../../worker/auth/step-up";
import { apiKeys, users } from "../../worker/db/schema";
import { api, expectProblem, json, services, signIn, tokenFor } from "../helpers";

const MIN = 60;
const now = () => Math.floor(Date.now() / 1000);
/** A token minted now whose sign-in was verified `minutes` ago. */
const verifiedAgo = (user: string, minutes: number) => tokenFor(user, { verifiedAtSeconds: now() - minutes * MIN });
const stale = (user: string) => verifiedAgo(user, 11);
const fresh = (user: string) => verifiedAgo(user, 9);

const jsonInit = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function expectReverification(res: Response): Promise<void> {
  const body = await expectProblem(res, 403, "reverification_required");
  // The exact body Clerk's useReverification() looks for (@clerk/shared/authorization-errors).
  expect(isReverificationHint(body)).toBe(true);
  expect(body["clerk_error"]).toEqual({
    type: "forbidden",
    reason: "reverification-error",
    metadata: { reverification: { level: "second_factor", afterMinutes: 10 } },
  });
}

let bobId = "";
beforeAll(async () => {
  await signIn("alice");
  bobId = await signIn("bob");
  await signIn("carol");
});

describe("step-up: refused without a recent verification, and nothing changes", () => {
  it("DELETE /v1/account: 403, the account stays", async () => {
    await expectReverification(await api("/v1/account", { ...jsonInit("DELETE", { confirm: "DELETE" }), token: await stale("bob") }));
    const row = await services().db.select({ id: users.id }).from(users).where(eq(users.id, bobId)).get();
    expect(row?.id).toBe(bobId);
    expect((await api("/v1/me", { user: "bob" })).status).toBe(200);
  });

  it("POST /v1/api-keys with a write scope: 403, no key made; a read-only key needs no check", async () => {
    const before = (await services().db.select().from(apiKeys).where(eq(apiKeys.userId, bobId)).all()).length;
    for (const scope of ["photos:write", "generations:write", "billing:write"]) {
      await expectReverification(await api("/v1/api-keys", { ...jsonInit("POST", { name: "w", scopes: ["generations:read", scope] }), token: await stale("bob") }));
    }
    expect(await services().db.select().from(apiKeys).where(eq(apiKeys.userId, bobId)).all()).toHaveLength(before);
    const readOnly = await api("/v1/api-keys", { ...jsonInit("POST", { name: "r", scopes: ["generations:read", "account:read"] }), token: await stale("bob") });
    expect(readOnly.status).toBe(201);
  });

  it("DELETE /v1/api-keys/:id: 403, the key still works", async () => {
    const created = await api("/v1/api-keys", { ...jsonInit("POST", { name: "k", scopes: ["account:read"] }), user: "bob" });
    const key = await json<{ id: string; secret: string }>(created);
    await expectReverification(await api(`/v1/api-keys/${key.id}`, { method: "DELETE", token: await stale("bob") }));
    expect((await api("/v1/me", { token: key.secret })).status).toBe(200);
    expect((await api(`/v1/api-keys/${key.id}`, { method: "DELETE", token: await fresh("bob") })).status).toBe(204);
    expect((await api("/v1/me", { token: key.secret })).status).toBe(401);
  });

  it("PATCH /v1/me/settings: 403, the setting is unchanged", async () => {
    const before = await json<{ keepPhotosDays: number }>(await api("/v1/me/settings", { user: "bob" }));
    const other = before.keepPhotosDays === 30 ? 7 : 30;
    await expectReverification(await api("/v1/me/settings", { ...jsonInit("PATCH", { keepPhotosDays: other }), token: await stale("bob") }));
    expect(await json(await api("/v1/me/settings", { user: "bob" }))).toEqual(before);
    const ok = await api("/v1/me/settings", { ...jsonInit("PATCH", { keepPhotosDays: other }), token: await fresh("bob") });
    expect(ok.status).toBe(200);
  });

  it("PUT /v1/me/support-access: 403, no grant; revoking needs no check", async () => {
    await expectReverification(await api("/v1/me/support-access", { ...jsonInit("PUT", { hours: 24 }), token: await stale("bob") }));
    const me = await json<{ supportAccessUntil?: string | null }>(await api("/v1/me", { user: "bob" }));
    expect(me.supportAccessUntil ?? null).toBeNull();
    expect((await api("/v1/me/support-access", { method: "DELETE", token: await stale("bob") })).status).toBe(200);
  });

  it("GET /v1/account/exports/:id: progress needs no check, the ready export's download link does", async () => {
    const created = await json<{ id: string }>(await api("/v1/account/exports", { method: "POST", token: await stale("carol") }));
    let status = "queued";
    for (let i = 0; i < 300 && status !== "ready" && status !== "failed"; i++) {
      const res = await api(`/v1/account/exports/${created.id}`, { token: await stale("carol") });
      if (res.status === 403) {
        await expectReverification(res);
        status = "ready";
        break;
      }
      expect(res.status).toBe(200);
      status = (await json<{ status: string }>(res)).status;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe("ready");
    await expectReverification(await api(`/v1/account/exports/${created.id}`, { token: await stale("carol") }));
    const ok = await json<{ status: string; download: { url: string } | null }>(await api(`/v1/account/exports/${created.id}`, { token: await fresh("carol") }));
    expect(ok.status).toBe("ready");
    expect(ok.download?.url).toMatch(/\/v1\/files\//);
  });
});

describe("step-up: what counts as recent", () => {
  it("a verification 9 minutes old passes, 10 minutes fails (Clerk's strict: afterMinutes > age)", async () => {
    const body = jsonInit("PATCH", { keepPhotosDays: 7 });
    expect((await api("/v1/me/settings", { ...body, token: await verifiedAgo("alice", 9) })).status).toBe(200);
    await expectReverification(await api("/v1/me/settings", { ...body, token: await verifiedAgo("alice", 10) }));
  });

  it("the token's own age counts: a token minted 11 minutes ago right after sign-in is stale now", async () => {
    const old = await tokenFor("alice", { nowSeconds: now() - 11 * MIN, ttlSeconds: 3600 });
    await expectReverification(await api("/v1/me/settings", { ...jsonInit("PATCH", { keepPhotosDays: 7 }), token: old }));
  });

  it("a user with a second factor must have verified that one recently; no fva at all is never recent", async () => {
    const body = jsonInit("PATCH", { keepPhotosDays: 7 });
    await expectReverification(await api("/v1/me/settings", { ...body, token: await tokenFor("alice", { claims: { fva: [1, 30] } }) }));
    expect((await api("/v1/me/settings", { ...body, token: await tokenFor("alice", { claims: { fva: [30, 1] } }) })).status).toBe(200);
    // Without a usable fva the session's age is unknown too, so the token is refused outright (test/security/session-age.test.ts).
    for (const fva of [undefined, [-1, -1], "0,-1"]) {
      await expectProblem(await api("/v1/me/settings", { ...body, token: await tokenFor("alice", { claims: { fva } }) }), 401, "unauthorized");
    }
    expect(checkStepUp(null).ok).toBe(false);
    expect(checkStepUp([-1, -1]).ok).toBe(false);
  });

  it("an API key never reaches a step-up route (403 insufficient_scope, as on every session-only route)", async () => {
    const key = await json<{ secret: string }>(await api("/v1/api-keys", { ...jsonInit("POST", { name: "k2", scopes: ["account:read"] }), user: "alice" }));
    await expectProblem(await api("/v1/account", { ...jsonInit("DELETE", { confirm: "DELETE" }), token: key.secret }), 403, "insufficient_scope");
    await expectProblem(await api("/v1/me/settings", { ...jsonInit("PATCH", { keepPhotosDays: 7 }), token: key.secret }), 403, "insufficient_scope");
  });

  it("the local sign-in's refresh keeps the last check's time (POST /v1/dev/session verifiedAt); a future time counts as now", async () => {
    const mint = async (verifiedAt: string) => {
      const res = await api("/v1/dev/session", jsonInit("POST", { user: "alice", verifiedAt }));
      expect(res.status).toBe(200);
      return json<{ token: string; verifiedAt: string }>(res);
    };
    const old = await mint(new Date(Date.now() - 20 * MIN * 1000).toISOString());
    await expectReverification(await api("/v1/me/settings", { ...jsonInit("PATCH", { keepPhotosDays: 7 }), token: old.token }));
    const future = await mint(new Date(Date.now() + 3600 * 1000).toISOString());
    expect(Date.parse(future.verifiedAt)).toBeLessThanOrEqual(Date.now());
    expect((await api("/v1/me/settings", { ...jsonInit("PATCH", { keepPhotosDays: 7 }), token: future.token })).status).toBe(200);
  });

  it("agrees with Clerk's own check (@clerk/shared createCheckAuthorization, strict) on every age pair", () => {
    const ages = [-1, 0, 1, 9, 10, 11, 60];
    for (const a of ages) {
      for (const b of ages) {
        const clerk = createCheckAuthorization({
          userId: "user_x",
          factorVerificationAge: [a, b],
          orgId: null,
          orgRole: null,
          orgPermissions: null,
          features: null,
          plans: null,
        } as unknown as Parameters<typeof createCheckAuthorization>[0])({ reverification: "strict" });
        expect({ a, b, ok: checkStepUp([a, b]).ok }).toEqual({ a, b, ok: clerk });
      }
    }
    expect(agesNow([0, -1], now() - 125, Date.now())).toEqual([2, -1]);
  });
});
