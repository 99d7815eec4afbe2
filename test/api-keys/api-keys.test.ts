/**
 * Integrator API keys (issue 7, docs/architecture.md Identity): created and revoked from
 * a session only, shown once and stored as SHA-256, acting as their user
 * within their scopes, with last-used time and an audit entry on every use.
 */
import { sealAudit } from "../../worker/services/audit";
import { and, eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_ACTIVE_KEYS } from "../../worker/auth/api-keys";
import { apiKeys, auditLog, generations, securityLog } from "../../worker/db/schema";
import { sha256Hex } from "../../worker/lib/bytes";
import { api, expectProblem, json, services, signIn } from "../helpers";
import { network } from "../network";

interface Key {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface Created extends Key {
  secret: string;
}

async function createKey(user: string, body: Record<string, unknown>): Promise<Response> {
  return api("/v1/api-keys", { method: "POST", user, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function newKey(user: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<Created> {
  const res = await createKey(user, { name: `test key ${scopes.length}`, scopes, ...extra });
  expect(res.status).toBe(201);
  return json<Created>(res);
}

let alice = "";

beforeAll(async () => {
  alice = await signIn("alice");
  await signIn("bob");
});

describe("api keys: happy", () => {
  it("creates a key: secret shown once with prefix bp_, only its SHA-256 stored, audited as api_key.created", async () => {
    const res = await createKey("alice", { name: "My integration", scopes: ["photos:write", "generations:write", "generations:read"], expiresInDays: 30 });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const key = await json<Created>(res);
    expect(key.secret).toMatch(/^bp_[A-Za-z0-9_-]{43}$/);
    expect(key.secret.startsWith(key.prefix)).toBe(true);
    expect(key.prefix.length).toBeLessThan(16);
    expect(key.scopes).toEqual(["photos:write", "generations:write", "generations:read"]);
    expect(Date.parse(key.expiresAt ?? "") - Date.parse(key.createdAt)).toBe(30 * 86_400_000);

    const row = await services().db.select().from(apiKeys).where(eq(apiKeys.id, key.id)).get();
    expect(row?.hash).toBe(await sha256Hex(key.secret));
    expect(JSON.stringify(row)).not.toContain(key.secret);

    const audit = await services()
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, alice), eq(auditLog.action, "api_key.created")))
      .all();
    expect(audit.some((a) => a.targetId === key.id)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(key.secret);
  });

  it("lists the caller's keys without secrets, newest first", async () => {
    const a = await newKey("alice", ["account:read"]);
    const res = await api("/v1/api-keys", { user: "alice" });
    expect(res.status).toBe(200);
    const list = await json<{ keys: Key[]; nextCursor: string | null }>(res);
    expect(list.keys[0]?.id).toBe(a.id);
    expect(JSON.stringify(list)).not.toContain(a.secret);
    expect(list.keys.every((k) => !("secret" in k))).toBe(true);
    const bobs = await json<{ keys: Key[] }>(await api("/v1/api-keys", { user: "bob" }));
    expect(bobs.keys.some((k) => k.id === a.id)).toBe(false);
  });

  it("a key acts as its user within its scopes, records last-used time and audits api_key.used", async () => {
    const key = await newKey("alice", ["account:read"]);
    const res = await api("/v1/me", { token: key.secret });
    expect(res.status).toBe(200);
    const me = await json<{ id: string; via: string }>(res);
    expect(me).toMatchObject({ id: alice, via: "api_key" });

    const listed = await json<{ keys: Key[] }>(await api("/v1/api-keys", { user: "alice" }));
    expect(listed.keys.find((k) => k.id === key.id)?.lastUsedAt).not.toBeNull();
    await sealAudit(services().db, alice);
    const used = await services()
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, alice), eq(auditLog.action, "api_key.used"), eq(auditLog.actorId, key.id)))
      .all();
    expect(used.length).toBeGreaterThanOrEqual(1);
    expect(used[0]?.actorType).toBe("api_key");
  });

  it("a key with billing:write can start a checkout; balance reads need account:read", async () => {
    network.use(
      http.post("https://test-api.creem.io/v1/checkouts", () => HttpResponse.json({ id: "ch_by_key", checkout_url: "https://checkout.creem.io/ch_by_key" })),
    );
    const key = await newKey("alice", ["billing:write"]);
    const res = await api("/v1/billing/checkout", {
      method: "POST",
      token: key.secret,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId: "prod_small" }),
    });
    expect(res.status).toBe(201);
    await expectProblem(await api("/v1/billing/balance", { token: key.secret }), 403, "insufficient_scope");
  });

  it("revoking is immediate, idempotent and audited once", async () => {
    const key = await newKey("alice", ["account:read"]);
    expect((await api("/v1/me", { token: key.secret })).status).toBe(200);
    const del = await api(`/v1/api-keys/${key.id}`, { method: "DELETE", user: "alice" });
    expect(del.status).toBe(204);
    await expectProblem(await api("/v1/me", { token: key.secret }), 401, "unauthorized");
    expect((await api(`/v1/api-keys/${key.id}`, { method: "DELETE", user: "alice" })).status).toBe(204);
    const revoked = await services()
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, alice), eq(auditLog.action, "api_key.revoked"), eq(auditLog.targetId, key.id)))
      .all();
    expect(revoked).toHaveLength(1);
    const listed = await json<{ keys: Key[] }>(await api("/v1/api-keys", { user: "alice" }));
    expect(listed.keys.find((k) => k.id === key.id)?.revokedAt).not.toBeNull();
  });
});

describe("api keys: security", () => {
  it("a key without the route's scope gets 403 insufficient_scope (photos:write needed to upload)", async () => {
    const key = await newKey("alice", ["generations:read"]);
    const res = await api("/v1/photos", { method: "POST", token: key.secret, headers: { "content-type": "application/octet-stream" }, body: "x" });
    await expectProblem(res, 403, "insufficient_scope");
    const denied = await services().db.select().from(securityLog).where(eq(securityLog.kind, "scope_denied")).all();
    expect(denied.some((d) => d.userId === alice)).toBe(true);
  });

  it("a key without generations:write cannot create a generation (403), spends nothing, and may still read with generations:read", async () => {
    const key = await newKey("alice", ["generations:read", "photos:write", "photos:read"]);
    const before = await json<{ credits: number }>(await api("/v1/me", { user: "alice" }));
    const res = await api("/v1/generations", {
      method: "POST",
      token: key.secret,
      headers: { "content-type": "application/json", "idempotency-key": "scope-test-1" },
      body: JSON.stringify({ motherPhotoId: `pho_${"0".repeat(32)}`, fatherPhotoId: `pho_${"1".repeat(32)}` }),
    });
    await expectProblem(res, 403, "insufficient_scope");
    const rows = await services().db.select().from(generations).where(eq(generations.userId, alice)).all();
    expect(rows).toHaveLength(0);
    const after = await json<{ credits: number }>(await api("/v1/me", { user: "alice" }));
    expect(after.credits).toBe(before.credits);
    expect((await api("/v1/generations", { token: key.secret })).status).toBe(200);
  });

  it("a revoked key is 401", async () => {
    const key = await newKey("alice", ["account:read"]);
    await api(`/v1/api-keys/${key.id}`, { method: "DELETE", user: "alice" });
    await expectProblem(await api("/v1/me", { token: key.secret }), 401, "unauthorized");
  });

  it("an expired key is 401", async () => {
    const key = await newKey("alice", ["account:read"], { expiresInDays: 1 });
    await services()
      .db.update(apiKeys)
      .set({ expiresAt: Date.now() - 1000 })
      .where(eq(apiKeys.id, key.id));
    await expectProblem(await api("/v1/me", { token: key.secret }), 401, "unauthorized");
    const failures = await services().db.select().from(securityLog).where(eq(securityLog.kind, "auth_failed")).all();
    expect(failures.some((f) => (f.detail ?? "").includes("api-key-expired"))).toBe(true);
  });

  it("an unknown or altered key is 401", async () => {
    const key = await newKey("alice", ["account:read"]);
    const altered = key.secret.slice(0, -1) + (key.secret.endsWith("A") ? "B" : "A");
    await expectProblem(await api("/v1/me", { token: altered }), 401, "unauthorized");
    await expectProblem(await api("/v1/me", { token: `bp_${"x".repeat(43)}` }), 401, "unauthorized");
  });

  it("a valid key is never authorized for key management, whatever its scopes: 403 insufficient_scope on create, list and revoke", async () => {
    const key = await newKey("alice", ["photos:read", "photos:write", "generations:read", "generations:write", "account:read", "billing:write"]);
    const other = await newKey("alice", ["account:read"]);
    const create = await api("/v1/api-keys", {
      method: "POST",
      token: key.secret,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "minted by a key", scopes: ["account:read"] }),
    });
    await expectProblem(create, 403, "insufficient_scope");
    await expectProblem(await api("/v1/api-keys", { token: key.secret }), 403, "insufficient_scope");
    await expectProblem(await api(`/v1/api-keys/${other.id}`, { method: "DELETE", token: key.secret }), 403, "insufficient_scope");
    // The other key still works: the refused revoke changed nothing.
    expect((await api("/v1/me", { token: other.secret })).status).toBe(200);
    const denied = await services().db.select().from(securityLog).where(eq(securityLog.kind, "scope_denied")).all();
    expect(denied.some((f) => (f.detail ?? "").includes("api-key-on-session-route"))).toBe(true);
  });

  it("session-only routes (exports, account deletion, consent, settings) answer a valid key 403 insufficient_scope, and an invalid one 401", async () => {
    await signIn("erin");
    const key = await newKey("erin", ["photos:read", "photos:write", "generations:read", "generations:write", "account:read", "billing:write"]);
    await expectProblem(await api("/v1/account/exports", { method: "POST", token: key.secret }), 403, "insufficient_scope");
    await expectProblem(await api("/v1/account/exports", { token: key.secret }), 403, "insufficient_scope");
    await expectProblem(await api("/v1/account", { method: "DELETE", token: key.secret }), 403, "insufficient_scope");
    await expectProblem(await api("/v1/me/settings", { token: key.secret }), 403, "insufficient_scope");
    // The account is still there: the refused deletion did nothing.
    expect((await api("/v1/me", { token: key.secret })).status).toBe(200);
    const altered = key.secret.slice(0, -1) + (key.secret.endsWith("A") ? "B" : "A");
    await expectProblem(await api("/v1/account/exports", { method: "POST", token: altered }), 401, "unauthorized");
  });

  it("another user's key id is a 404 identical to a missing one, and is not revoked", async () => {
    const key = await newKey("alice", ["account:read"]);
    const foreign = await expectProblem(await api(`/v1/api-keys/${key.id}`, { method: "DELETE", user: "bob" }), 404, "not_found");
    const missing = await expectProblem(await api(`/v1/api-keys/key_${"0".repeat(32)}`, { method: "DELETE", user: "bob" }), 404, "not_found");
    expect({ ...foreign, requestId: "", instance: "" }).toEqual({ ...missing, requestId: "", instance: "" });
    expect((await api("/v1/me", { token: key.secret })).status).toBe(200);
    const probes = await services().db.select().from(securityLog).where(eq(securityLog.kind, "not_found_probe")).all();
    expect(probes.some((p) => (p.detail ?? "").includes("api-key-of-another-user"))).toBe(true);
  });

  it(`at most ${MAX_ACTIVE_KEYS} active keys per user (409); revoking one frees a slot`, async () => {
    const carol = await signIn("carol");
    const made: Created[] = [];
    for (let i = 0; i < MAX_ACTIVE_KEYS; i++) made.push(await newKey("carol", ["account:read"]));
    await expectProblem(await createKey("carol", { name: "one too many", scopes: ["account:read"] }), 409, "conflict");
    const first = made[0];
    if (!first) throw new Error("no key made");
    await api(`/v1/api-keys/${first.id}`, { method: "DELETE", user: "carol" });
    expect((await createKey("carol", { name: "after revoke", scopes: ["account:read"] })).status).toBe(201);
    const rows = await services().db.select().from(apiKeys).where(eq(apiKeys.userId, carol)).all();
    expect(rows).toHaveLength(MAX_ACTIVE_KEYS + 1);
  });
});

describe("api keys: bad input", () => {
  it("rejects bad names, unknown or empty scopes, bad expiry and extra fields with 400 listing the fields", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "", scopes: ["account:read"] }, "name"],
      [{ name: "x".repeat(65), scopes: ["account:read"] }, "name"],
      [{ name: "k", scopes: [] }, "scopes"],
      [{ name: "k", scopes: ["admin"] }, "scopes.0"],
      [{ name: "k", scopes: ["account:read"], expiresInDays: 0 }, "expiresInDays"],
      [{ name: "k", scopes: ["account:read"], expiresInDays: 366 }, "expiresInDays"],
      [{ name: "k", scopes: ["account:read"], expiresInDays: 1.5 }, "expiresInDays"],
      [{ name: "k", scopes: ["account:read"], userId: "usr_x" }, "json"],
    ];
    for (const [body, field] of cases) {
      const problem = await expectProblem(await createKey("alice", body), 400, "validation_failed");
      const fields = (problem["errors"] as { field: string }[]).map((e) => e.field);
      expect(fields.some((f) => f === field || f.startsWith(field))).toBe(true);
    }
  });

  it("a malformed key id is a 400, a well-formed unknown one a 404", async () => {
    await expectProblem(await api("/v1/api-keys/not-a-key", { method: "DELETE", user: "alice" }), 400, "validation_failed");
    await expectProblem(await api(`/v1/api-keys/key_${"f".repeat(32)}`, { method: "DELETE", user: "alice" }), 404, "not_found");
  });

  it("unauthenticated: 401", async () => {
    await expectProblem(await api("/v1/api-keys"), 401, "unauthorized");
  });
});
