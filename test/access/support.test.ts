/**
 * Support access (issue 5 §4, docs/architecture.md): admin-only, a stated reason on
 * every call, inside an open support session (decision 0019; its own promises
 * are in test/privacy-team/support-sessions.test.ts), metadata only, and every
 * access visible to the user in their own activity log.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { users } from "../../worker/db/schema";
import { api, expectProblem, json, services, signedInUsers, tokenFor } from "../helpers";
import { auditRows, insertApiKey, insertGeneration, insertObjectRow } from "./fixtures";

const REASON = "Ticket 4411: generation stuck in queued";
const withReason = (reason: string = REASON) => ({ "x-support-reason": reason });

const signedIn = signedInUsers("alice", "carol", "bob");
let photoId = "";
let outputId = "";

interface AuditPage {
  items: { action: string; actor: { type: string; id: string | null; reason: string | null }; summary: string }[];
}

/** PUT /v1/me/support-access: the user opens a window of `hours` for support (alice unless `as` says otherwise). */
function grantSupportAccess(hours: unknown, as: { user?: string; token?: string } = { user: "alice" }): Promise<Response> {
  return api("/v1/me/support-access", { method: "PUT", ...as, headers: { "content-type": "application/json" }, body: JSON.stringify({ hours }) });
}

async function latestSupportEntry() {
  const page = await json<AuditPage>(await api("/v1/account/audit?limit=10", { user: "alice" }));
  return page.items.find((e) => e.action === "support.accessed");
}

/** Account reads need an open support session of the caller (decision 0019). */
async function openSession(as: { user?: string; token?: string }): Promise<void> {
  const res = await api("/v1/admin/support-sessions", {
    ...as,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId: signedIn.alice, reason: REASON, ticket: "T-4411" }),
  });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  await openSession({ user: "carol" });
  const gen = await insertGeneration(signedIn.alice, "completed");
  await insertGeneration(signedIn.alice, "failed");
  photoId = await insertObjectRow(signedIn.alice, "photo");
  outputId = await insertObjectRow(signedIn.alice, "output", gen);
});

describe("support: happy", () => {
  it("carol (ADMIN_USER_IDS) is an admin; alice is not", async () => {
    expect((await json<{ isAdmin: boolean }>(await api("/v1/me", { user: "carol" }))).isAdmin).toBe(true);
    expect((await json<{ isAdmin: boolean }>(await api("/v1/me", { user: "alice" }))).isAdmin).toBe(false);
  });

  it("a session with role admin in its claims is an admin", async () => {
    const token = await tokenFor("dave", { claims: { metadata: { role: "admin" } } });
    await openSession({ token });
    const res = await api(`/v1/support/users/${signedIn.alice}`, { token, headers: withReason() });
    expect(res.status).toBe(200);
  });

  it("account summary: counts and states, no email, no image ids; audited in alice's log with the reason", async () => {
    const res = await api(`/v1/support/users/${signedIn.alice}`, { user: "carol", headers: withReason() });
    expect(res.status).toBe(200);
    const body = await json<{ id: string; counts: { photos: number; outputs: number; generations: Record<string, number> } }>(res);
    expect(body.id).toBe(signedIn.alice);
    expect(body.counts.photos).toBe(1);
    expect(body.counts.outputs).toBe(1);
    expect(body.counts.generations).toMatchObject({ completed: 1, failed: 1, queued: 0 });
    const raw = JSON.stringify(body);
    expect(raw).not.toContain("alice@example.test");
    expect(raw).not.toContain(photoId);
    expect(raw).not.toContain(outputId);

    const entry = await latestSupportEntry();
    expect(entry?.actor).toEqual({ type: "support", id: signedIn.carol, reason: REASON });
    expect(entry?.summary).toBe(`Support viewed your account summary because: ${REASON}`);
  });

  it("generation states without images or options", async () => {
    const res = await api(`/v1/support/users/${signedIn.alice}/generations`, { user: "carol", headers: withReason("Checking why a generation failed") });
    expect(res.status).toBe(200);
    const body = await json<{ items: { status: string; outputs: number }[] }>(res);
    expect(body.items.map((g) => g.status).sort()).toEqual(["completed", "failed"]);
    expect(body.items.find((g) => g.status === "completed")?.outputs).toBe(1);
    expect(JSON.stringify(body)).not.toContain("url");
    const entry = await latestSupportEntry();
    expect(entry?.summary).toBe("Support viewed the states of your generations because: Checking why a generation failed");
  });
});

describe("support: photos are never served by /v1/support", () => {
  it("the bulk images route is gone (404), with or without the user's window; pictures go through a support session's request", async () => {
    await expectProblem(await api(`/v1/support/users/${signedIn.alice}/images`, { user: "carol", headers: withReason() }), 404, "not_found");
    const grant = await grantSupportAccess(2);
    expect(grant.status).toBe(200);
    await expectProblem(await api(`/v1/support/users/${signedIn.alice}/images`, { user: "carol", headers: withReason() }), 404, "not_found");
  });

  it("the user's window is set and audited, and revoking it clears it", async () => {
    const grant = await grantSupportAccess(2);
    expect(grant.status).toBe(200);
    const { supportAccessUntil } = await json<{ supportAccessUntil: string }>(grant);
    const ahead = Date.parse(supportAccessUntil) - Date.now();
    expect(ahead).toBeGreaterThan(3_600_000);
    expect(ahead).toBeLessThanOrEqual(2 * 3_600_000);
    const rows = await auditRows(signedIn.alice);
    expect(rows.some((r) => r.action === "support.grant_changed" && r.actorType === "user")).toBe(true);
    const del = await api("/v1/me/support-access", { method: "DELETE", user: "alice" });
    expect(del.status).toBe(200);
    expect(await json(del)).toEqual({ supportAccessUntil: null });
    const row = await services().db.select().from(users).where(eq(users.id, signedIn.alice)).get();
    expect(row?.supportAccessUntil).toBeNull();
  });
});

describe("support: errors", () => {
  it.each([
    ["missing", undefined],
    ["too short", "because"],
    ["only spaces", "             "],
    ["too long", "x".repeat(501)],
  ])("reason %s: 400 naming the header, nothing audited", async (_label, reason) => {
    const before = (await auditRows(signedIn.alice)).length;
    const res = await api(`/v1/support/users/${signedIn.alice}`, { user: "carol", headers: reason === undefined ? {} : withReason(reason) });
    const body = await expectProblem(res, 400, "validation_failed");
    expect(JSON.stringify(body["errors"])).toContain("x-support-reason");
    expect((await auditRows(signedIn.alice)).length).toBe(before);
  });

  it("unknown user id: 404", async () => {
    await expectProblem(await api("/v1/support/users/usr_00000000000000000000000000000000", { user: "carol", headers: withReason() }), 404, "not_found");
  });

  it.each([[0], [73], [1.5], ["24"]])("grant hours %s: 400", async (hours) => {
    const res = await grantSupportAccess(hours);
    await expectProblem(res, 400, "validation_failed");
  });
});

describe("support: security", () => {
  it("a non-admin gets 404 for every support route, the same as an unknown route, and nothing is logged as support", async () => {
    const before = (await auditRows(signedIn.alice)).length;
    for (const path of [`/v1/support/users/${signedIn.alice}`, `/v1/support/users/${signedIn.alice}/generations`]) {
      const body = await expectProblem(await api(path, { user: "bob", headers: withReason() }), 404, "not_found");
      const unknown = await expectProblem(await api("/v1/support/nothing-here", { user: "bob", headers: withReason() }), 404, "not_found");
      expect(body["detail"]).toBe(unknown["detail"]);
    }
    expect((await auditRows(signedIn.alice)).length).toBe(before);
  });

  it("an API key never acts as staff, even carol's", async () => {
    const key = await insertApiKey(signedIn.carol, ["account:read", "photos:read", "generations:read"]);
    await expectProblem(await api(`/v1/support/users/${signedIn.alice}`, { token: key.secret, headers: withReason() }), 403, "insufficient_scope");
  });

  it("an API key cannot grant support access", async () => {
    const key = await insertApiKey(signedIn.alice, ["account:read", "photos:write"]);
    const res = await grantSupportAccess(72, { token: key.secret });
    await expectProblem(res, 403, "insufficient_scope");
    const row = await services().db.select().from(users).where(eq(users.id, signedIn.alice)).get();
    expect(row?.supportAccessUntil === null || (row?.supportAccessUntil ?? 0) < Date.now()).toBe(true);
  });

  it("no credentials: 401", async () => {
    await expectProblem(await api(`/v1/support/users/${signedIn.alice}`, { headers: withReason() }), 401, "unauthorized");
  });
});
