/**
 * Support sessions (issue 16 item 1, docs/decisions/0019-support-sessions.md).
 *
 * Promises: support sees account facts only inside an open session it opened;
 * never image bytes without the user's grant for that generation or a second
 * operator's approval, and then only an engineer; one operator cannot approve
 * their own request; expired sessions refuse; the user ending a session
 * refuses further reads. Each step is in the user's activity log and the
 * operator log. Plus a role matrix (user, admin, engineer, API key,
 * anonymous) over every new route.
 */
import { env } from "cloudflare:test";
import { eq, inArray } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { SCOPES } from "../../worker/auth/types";
import { operatorLog, supportImageRequests, supportSessions, tombstones, users } from "../../worker/db/schema";
import { putObject } from "../../worker/services/storage";
import { auditRows, insertApiKey, insertGeneration } from "../access/fixtures";
import { fakeRateLimit } from "../fake-rate-limit";
import { API, api, expectProblem, json, services, signIn, signedInUsers, tokenFor } from "../helpers";
import { makeJpeg } from "../pipeline/fake-fal";

const ENGINEER = { claims: { metadata: { role: "engineer" } } };
const REASON = "User reports that a generation failed twice";
const erinToken = () => tokenFor("erin", ENGINEER);
const frankToken = () => tokenFor("frank", ENGINEER);

const signedIn = signedInUsers("alice", "carol");
let erin = "";
let failedGen = "";
let doneGen = "";
let picture: Uint8Array = new Uint8Array();

interface Session {
  id: string;
  userId: string;
  expiresAt: string;
}
interface ImageRequest {
  id: string;
  status: string;
  decidedVia: string | null;
}
interface AuditPage {
  items: { action: string; summary: string; actor: { type: string } }[];
}

const post = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function openSession(as: { user?: string; token?: string }, body: Record<string, unknown> = {}): Promise<Session> {
  const res = await api("/v1/admin/support-sessions", { ...as, ...post({ userId: signedIn.alice, reason: REASON, ticket: "T-4411", ...body }) });
  expect(res.status).toBe(201);
  return json<Session>(res);
}

async function requestPictures(sessionId: string, generationId = doneGen): Promise<ImageRequest> {
  const res = await api(`/v1/admin/support-sessions/${sessionId}/image-requests`, { token: await erinToken(), ...post({ generationId, reason: "The result looks wrong to the user" }) });
  expect(res.status).toBe(201);
  return json<ImageRequest>(res);
}

async function aliceSummaries(): Promise<string[]> {
  const page = await json<AuditPage>(await api("/v1/account/audit?limit=50", { user: "alice" }));
  return page.items.map((e) => e.summary);
}

async function operatorActions(): Promise<string[]> {
  return (await services().db.select().from(operatorLog).all()).map((r) => r.action);
}

/** True when the response carries image bytes (JPEG magic), whatever its status. */
async function carriesImage(res: Response): Promise<boolean> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  return bytes[0] === 0xff && bytes[1] === 0xd8;
}

beforeAll(async () => {
  erin = (await json<{ id: string }>(await api("/v1/me", { token: await erinToken() }))).id;
  await api("/v1/me", { token: await frankToken() });
  failedGen = await insertGeneration(signedIn.alice, "failed");
  doneGen = await insertGeneration(signedIn.alice, "completed");
  picture = makeJpeg(64, 64, 7);
  await putObject(services(), { userId: signedIn.alice, kind: "output", contentType: "image/jpeg", bytes: picture, width: 64, height: 64, generationId: doneGen });
});

describe("support sessions: roles", () => {
  it("the engineer role comes from server-side metadata and makes an operator; carol is admin but not engineer", async () => {
    const me = await json<{ isAdmin: boolean }>(await api("/v1/me", { token: await erinToken() }));
    expect(me.isAdmin).toBe(true);
    const s = await openSession({ user: "carol" });
    const res = await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { user: "carol", ...post({ generationId: doneGen, reason: "The result looks wrong to the user" }) });
    const body = await expectProblem(res, 403, "forbidden");
    expect(String(body["detail"])).toContain("engineer");
  });
});

describe("support sessions: account facts only inside an open session", () => {
  it("without a session, the /v1/support reads are refused (403) and nothing is shown", async () => {
    const res = await api(`/v1/support/users/${signedIn.alice}`, { token: await frankToken(), headers: { "x-support-reason": REASON } });
    await expectProblem(res, 403, "forbidden");
  });

  it("opening one is in alice's activity log and the operator log at once; the banner lists it; facts show credits, generations and errors, no pictures", async () => {
    const s = await openSession({ user: "carol" });
    expect(Date.parse(s.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(Date.parse(s.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    expect((await aliceSummaries()).some((t) => t.includes("support session opened for 30 minutes (ticket T-4411)") && t.includes(REASON))).toBe(true);
    expect(await operatorActions()).toContain("support_session.opened");
    const banner = await json<{ items: { id: string; ticket: string }[] }>(await api("/v1/me/support-sessions", { user: "alice" }));
    expect(banner.items.map((i) => i.id)).toContain(s.id);

    const res = await api(`/v1/admin/support-sessions/${s.id}/facts`, { user: "carol" });
    expect(res.status).toBe(200);
    const facts = await json<{ account: { credits: number; counts: { outputs: number } }; generations: { id: string; status: string; errorCode: string | null }[] }>(res);
    expect(typeof facts.account.credits).toBe("number");
    expect(facts.account.counts.outputs).toBe(1);
    expect(facts.generations.map((g) => g.id).sort()).toEqual([doneGen, failedGen].sort());
    const raw = JSON.stringify(facts);
    expect(raw).not.toMatch(/img_[0-9a-f]{32}/);
    expect(raw).not.toContain("url");
    expect((await aliceSummaries()).some((t) => t.startsWith("Support viewed your account facts (credits, generations and errors) because:"))).toBe(true);
    expect(await operatorActions()).toContain("support_session.read");
    // The older /v1/support reads work inside the session too.
    expect((await api(`/v1/support/users/${signedIn.alice}`, { user: "carol", headers: { "x-support-reason": REASON } })).status).toBe(200);
  });

  it("another operator cannot read through carol's session", async () => {
    const s = await openSession({ user: "carol" });
    await expectProblem(await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() }), 403, "forbidden");
  });

  it("an expired session refuses every read", async () => {
    const s = await openSession({ token: await frankToken() }, { minutes: 5 });
    const req = await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { token: await frankToken(), ...post({ generationId: doneGen, reason: "The result looks wrong to the user" }) });
    const r = await json<ImageRequest>(req);
    await api(`/v1/admin/support-image-requests/${r.id}/approve`, { user: "carol", ...post({ note: "checked the ticket" }) });
    await services().db.update(supportSessions).set({ expiresAt: Date.now() - 1 }).where(eq(supportSessions.id, s.id));
    await expectProblem(await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await frankToken() }), 403, "forbidden");
    await expectProblem(await api(`/v1/support/users/${signedIn.alice}`, { token: await frankToken(), headers: { "x-support-reason": REASON } }), 403, "forbidden");
    const img = await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await frankToken() });
    expect(img.status).toBe(403);
    expect(await carriesImage(img)).toBe(false);
    const banner = await json<{ items: { id: string }[] }>(await api("/v1/me/support-sessions", { user: "alice" }));
    expect(banner.items.map((i) => i.id)).not.toContain(s.id);
  });

  it("the user ending the session refuses further reads, and is recorded in both logs", async () => {
    const s = await openSession({ token: await erinToken() });
    const r = await requestPictures(s.id);
    await api(`/v1/admin/support-image-requests/${r.id}/approve`, { user: "carol", ...post({ note: "checked the ticket" }) });
    expect((await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() })).status).toBe(200);

    const end = await api(`/v1/me/support-sessions/${s.id}/end`, { user: "alice", method: "POST" });
    expect(end.status).toBe(200);
    await expectProblem(await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() }), 403, "forbidden");
    const img = await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await erinToken() });
    expect(img.status).toBe(403);
    expect(await carriesImage(img)).toBe(false);
    expect((await aliceSummaries()).some((t) => t === "You ended the support session (ticket T-4411)")).toBe(true);
    expect(await operatorActions()).toContain("support_session.ended_by_user");
    await expectProblem(await api(`/v1/me/support-sessions/${s.id}/end`, { user: "alice", method: "POST" }), 409, "conflict");
  });

  it("bob cannot end alice's session (404)", async () => {
    await signIn("bob");
    const s = await openSession({ user: "carol" });
    await expectProblem(await api(`/v1/me/support-sessions/${s.id}/end`, { user: "bob", method: "POST" }), 404, "not_found");
  });
});

describe("support sessions: pictures", () => {
  it("support never receives image bytes without the user's grant or a second operator's approval", async () => {
    const s = await openSession({ token: await erinToken() });
    const r = await requestPictures(s.id);
    expect(r.status).toBe("pending");
    const res = await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await erinToken() });
    await expectProblem(res.clone(), 403, "forbidden");
    expect(await carriesImage(res)).toBe(false);
    // The facts never carry pictures either.
    const facts = await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() });
    expect(await carriesImage(facts)).toBe(false);
    expect((await aliceSummaries()).some((t) => t.includes(`asked to see the pictures of generation ${doneGen}; you can allow or refuse it`))).toBe(true);
  });

  it("one operator cannot approve their own request (two-person rule)", async () => {
    const s = await openSession({ token: await erinToken() });
    const r = await requestPictures(s.id);
    const body = await expectProblem(await api(`/v1/admin/support-image-requests/${r.id}/approve`, { token: await erinToken(), ...post({ note: "I approve myself" }) }), 403, "forbidden");
    expect(String(body["detail"])).toContain("Two-person rule");
    const res = await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await erinToken() });
    expect(res.status).toBe(403);
    expect(await carriesImage(res)).toBe(false);
  });

  it("a second operator's approval lets only the requesting engineer see the bytes, recorded in both logs", async () => {
    const s = await openSession({ token: await erinToken() });
    const r = await requestPictures(s.id);
    const ok = await api(`/v1/admin/support-image-requests/${r.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) });
    expect(ok.status).toBe(200);
    expect((await json<ImageRequest>(ok)).decidedVia).toBe("operator");
    await expectProblem(await api(`/v1/admin/support-image-requests/${r.id}/approve`, { token: await frankToken(), ...post({ note: "again" }) }), 409, "conflict");

    const res = await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await erinToken() });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(picture);
    // Not carol (no engineer role), not another engineer.
    await expectProblem(await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { user: "carol" }), 403, "forbidden");
    await expectProblem(await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await frankToken() }), 403, "forbidden");
    await expectProblem(await api(`/v1/admin/support-image-requests/${r.id}/images/1`, { token: await erinToken() }), 404, "not_found");

    const summaries = await aliceSummaries();
    expect(summaries.some((t) => t.includes(`a second operator approved showing the pictures of generation ${doneGen}`))).toBe(true);
    expect(summaries.some((t) => t.startsWith(`Support viewed a picture of generation ${doneGen} because:`) && t.includes("approved by a second operator"))).toBe(true);
    const log = await services().db.select().from(operatorLog).where(eq(operatorLog.userId, signedIn.alice)).all();
    expect(log.some((e) => e.action === "support_image.approved" && e.operatorId === signedIn.carol)).toBe(true);
    expect(log.some((e) => e.action === "support_image.viewed" && e.operatorId === erin)).toBe(true);
    // The stored entry holds no image bytes.
    const rows = await auditRows(signedIn.alice);
    expect(rows.every((row) => !(row.detail ?? "").includes("/9j/"))).toBe(true);
  });

  it("the user's explicit grant for that generation lets the engineer see it; a refusal does not", async () => {
    const s = await openSession({ token: await erinToken() });
    const allowed = await requestPictures(s.id);
    const mine = await json<{ items: { id: string; requests: { id: string; status: string }[] }[] }>(await api("/v1/me/support-sessions", { user: "alice" }));
    expect(mine.items.find((i) => i.id === s.id)?.requests.map((q) => q.id)).toEqual([allowed.id]);
    const yes = await api(`/v1/me/support-image-requests/${allowed.id}/allow`, { user: "alice", method: "POST" });
    expect(yes.status).toBe(200);
    const res = await api(`/v1/admin/support-image-requests/${allowed.id}/images/0`, { token: await erinToken() });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(picture);
    expect((await aliceSummaries()).some((t) => t.startsWith(`You let support see the pictures of generation ${doneGen} until`))).toBe(true);
    expect(await operatorActions()).toContain("support_image.granted_by_user");

    const refused = await requestPictures(s.id);
    expect((await api(`/v1/me/support-image-requests/${refused.id}/refuse`, { user: "alice", method: "POST" })).status).toBe(200);
    const no = await api(`/v1/admin/support-image-requests/${refused.id}/images/0`, { token: await erinToken() });
    expect(no.status).toBe(403);
    expect(await carriesImage(no)).toBe(false);
    // A refused request cannot be approved by an operator afterwards.
    await expectProblem(await api(`/v1/admin/support-image-requests/${refused.id}/approve`, { user: "carol", ...post({ note: "overrule" }) }), 409, "conflict");
  });

  it("allowing needs a recent sign-in check; bob cannot decide alice's request", async () => {
    const s = await openSession({ token: await erinToken() });
    const r = await requestPictures(s.id);
    const stale = await tokenFor("alice", { verifiedAtSeconds: Math.floor(Date.now() / 1000) - 3600 });
    await expectProblem(await api(`/v1/me/support-image-requests/${r.id}/allow`, { token: stale, method: "POST" }), 403, "reverification_required");
    await expectProblem(await api(`/v1/me/support-image-requests/${r.id}/allow`, { user: "bob", method: "POST" }), 404, "not_found");
    expect((await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await erinToken() })).status).toBe(403);
  });

  it("a window alice opened in Settings allows an engineer's request at once", async () => {
    const grant = await api("/v1/me/support-access", { user: "alice", method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ hours: 1 }) });
    expect(grant.status).toBe(200);
    try {
      const s = await openSession({ token: await erinToken() });
      const r = await requestPictures(s.id);
      expect(r).toMatchObject({ status: "approved", decidedVia: "user_window" });
      expect((await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await erinToken() })).status).toBe(200);
    } finally {
      await api("/v1/me/support-access", { user: "alice", method: "DELETE" });
    }
  });
});

describe("support sessions: bad input", () => {
  it.each([
    ["no ticket", { ticket: "" }],
    ["short reason", { reason: "because" }],
    ["zero minutes", { minutes: 0 }],
    ["three hours", { minutes: 180 }],
  ])("%s: 400, nothing opened", async (_label, patch) => {
    const before = (await services().db.select().from(supportSessions).all()).length;
    const res = await api("/v1/admin/support-sessions", { user: "carol", ...post({ userId: signedIn.alice, reason: REASON, ticket: "T-1", ...patch }) });
    await expectProblem(res, 400, "validation_failed");
    expect((await services().db.select().from(supportSessions).all()).length).toBe(before);
  });

  it("unknown account: 404; a generation of another account: 404", async () => {
    await expectProblem(await api("/v1/admin/support-sessions", { user: "carol", ...post({ userId: "usr_00000000000000000000000000000000", reason: REASON, ticket: "T-1" }) }), 404, "not_found");
    const bobGen = await insertGeneration(await signIn("bob"), "completed");
    const s = await openSession({ token: await erinToken() });
    const res = await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { token: await erinToken(), ...post({ generationId: bobGen, reason: "The result looks wrong to the user" }) });
    await expectProblem(res, 404, "not_found");
  });
});

// ------------------------------------------------------------- role matrix

type Caller = "anonymous" | "user" | "api-key" | "admin" | "engineer";
const CALLERS: Caller[] = ["anonymous", "user", "api-key", "admin", "engineer"];

describe("support sessions: role matrix over every new route", async () => {
  let carolKey = "";
  let aliceKey = "";
  let sessionId = "";
  let requestId = "";

  beforeAll(async () => {
    carolKey = (await insertApiKey(signedIn.carol, SCOPES)).secret;
    aliceKey = (await insertApiKey(signedIn.alice, SCOPES)).secret;
    sessionId = (await openSession({ token: await frankToken() })).id;
    const r = await api(`/v1/admin/support-sessions/${sessionId}/image-requests`, { token: await frankToken(), ...post({ generationId: doneGen, reason: "The result looks wrong to the user" }) });
    requestId = (await json<ImageRequest>(r)).id;
  });

  async function auth(caller: Caller, side: "admin" | "me"): Promise<{ user?: string; token?: string }> {
    if (caller === "user") return { user: "alice" };
    if (caller === "admin") return { user: "carol" };
    if (caller === "engineer") return { token: await erinToken() };
    if (caller === "api-key") return { token: side === "admin" ? carolKey : aliceKey };
    return {};
  }

  /**
   * Expected status per caller. Operator routes: a user gets the unknown-route
   * 404; admin and engineer reach the handler (frank's session and request
   * are not theirs, so reads of them are refused by the handler with 403).
   * User routes: only alice's session reaches hers; operators are users
   * there, for whom alice's session does not exist.
   */
  const ROUTES: { name: string; side: "admin" | "me"; call: (a: { user?: string; token?: string }) => Promise<Response>; expect: Partial<Record<Caller, number>> }[] = [
    { name: "POST /v1/admin/support-sessions", side: "admin", call: (a) => api("/v1/admin/support-sessions", { ...a, ...post({ userId: signedIn.alice, reason: REASON, ticket: "T-9" }) }), expect: { admin: 201, engineer: 201 } },
    { name: "GET /v1/admin/support-sessions", side: "admin", call: (a) => api("/v1/admin/support-sessions", a), expect: { admin: 200, engineer: 200 } },
    { name: "GET /v1/admin/support-sessions/{id}/facts", side: "admin", call: (a) => api(`/v1/admin/support-sessions/${sessionId}/facts`, a), expect: { admin: 403, engineer: 403 } },
    {
      name: "POST /v1/admin/support-sessions/{id}/image-requests",
      side: "admin",
      call: (a) => api(`/v1/admin/support-sessions/${sessionId}/image-requests`, { ...a, ...post({ generationId: doneGen, reason: "The result looks wrong to the user" }) }),
      expect: { admin: 403, engineer: 403 },
    },
    { name: "GET /v1/admin/support-image-requests/{id}/images/{index}", side: "admin", call: (a) => api(`/v1/admin/support-image-requests/${requestId}/images/0`, a), expect: { admin: 403, engineer: 403 } },
    { name: "POST /v1/admin/support-image-requests/{id}/approve", side: "admin", call: (a) => api(`/v1/admin/support-image-requests/x_unknown/approve`, { ...a, ...post({ note: "looks fine" }) }), expect: { admin: 404, engineer: 404 } },
    { name: "POST /v1/admin/support-sessions/{id}/end", side: "admin", call: (a) => api(`/v1/admin/support-sessions/x_unknown/end`, { ...a, method: "POST" }), expect: { admin: 404, engineer: 404 } },
    { name: "GET /v1/me/support-sessions", side: "me", call: (a) => api("/v1/me/support-sessions", a), expect: { user: 200, admin: 200, engineer: 200 } },
    { name: "POST /v1/me/support-sessions/{id}/end", side: "me", call: (a) => api(`/v1/me/support-sessions/x_unknown/end`, { ...a, method: "POST" }), expect: { user: 404, admin: 404, engineer: 404 } },
    { name: "POST /v1/me/support-image-requests/{id}/allow", side: "me", call: (a) => api(`/v1/me/support-image-requests/x_unknown/allow`, { ...a, method: "POST" }), expect: { user: 404, admin: 404, engineer: 404 } },
    { name: "POST /v1/me/support-image-requests/{id}/refuse", side: "me", call: (a) => api(`/v1/me/support-image-requests/x_unknown/refuse`, { ...a, method: "POST" }), expect: { user: 404, admin: 404, engineer: 404 } },
  ];

  it("covers every new route in the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await api("/v1/openapi.json"));
    const listed = Object.entries(doc.paths).flatMap(([p, item]) =>
      p.includes("support-sessions") || p.includes("support-image-requests") ? Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`) : [],
    );
    expect(ROUTES.map((r) => r.name).sort()).toEqual(listed.sort());
  });

  it.each(ROUTES.flatMap((r) => CALLERS.map((c) => [r.name, c] as const)))("%s as %s", async (name, caller) => {
    const route = ROUTES.find((r) => r.name === name);
    if (!route) throw new Error(name);
    const res = await route.call(await auth(caller, route.side));
    const expected = caller === "anonymous" ? 401 : caller === "api-key" ? 403 : caller === "user" && route.side === "admin" ? 404 : route.expect[caller];
    expect(res.status).toBe(expected);
    if (caller === "api-key") expect((await json<{ code: string }>(res)).code).toBe("insufficient_scope");
    else if (caller === "user" && route.side === "admin") expect((await json<{ detail: string }>(res)).detail).toBe("No such route.");
    else if (expected !== undefined && expected >= 400) {
      const body = await json<{ detail: string }>(res);
      expect(body.detail).not.toBe("No such route.");
    } else await res.body?.cancel();
  });
});

// ---------------------------------------------------------------- attacks

describe("attacks", () => {
  const put = (hours: number) => ({ method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ hours }) });
  const picture0 = async (requestId: string) => api(`/v1/admin/support-image-requests/${requestId}/images/0`, { token: await erinToken() });

  it("a. closing or expiry of the Settings window withdraws the grants made within it; a new window does not revive them", async () => {
    try {
      expect((await api("/v1/me/support-access", { user: "alice", ...put(1) })).status).toBe(200);
      const s = await openSession({ token: await erinToken() });
      const closed = await requestPictures(s.id);
      expect(closed).toMatchObject({ status: "approved", decidedVia: "user_window" });
      expect((await picture0(closed.id)).status).toBe(200);
      // Alice ends the window: the grant made within it is withdrawn at once.
      expect((await api("/v1/me/support-access", { user: "alice", method: "DELETE" })).status).toBe(200);
      const afterClose = await picture0(closed.id);
      expect(afterClose.status).toBe(403);
      expect(await carriesImage(afterClose)).toBe(false);

      // A second window, which then runs out on its own.
      expect((await api("/v1/me/support-access", { user: "alice", ...put(1) })).status).toBe(200);
      const expired = await requestPictures(s.id);
      expect(expired.status).toBe("approved");
      await services().db.update(users).set({ supportAccessUntil: Date.now() - 1 }).where(eq(users.id, signedIn.alice));
      const afterExpiry = await picture0(expired.id);
      expect(afterExpiry.status).toBe(403);
      expect(await carriesImage(afterExpiry)).toBe(false);

      // A third window: the earlier grants stay withdrawn.
      expect((await api("/v1/me/support-access", { user: "alice", ...put(1) })).status).toBe(200);
      for (const id of [closed.id, expired.id]) {
        const res = await picture0(id);
        expect(res.status).toBe(403);
        expect(await carriesImage(res)).toBe(false);
      }
      const rows = await services().db.select().from(supportImageRequests).where(inArray(supportImageRequests.id, [closed.id, expired.id])).all();
      expect(rows.map((r) => r.status)).toEqual(["withdrawn", "withdrawn"]);
      expect((await aliceSummaries()).some((t) => t.includes("You revoked support access"))).toBe(true);
      const log = await services().db.select().from(operatorLog).where(eq(operatorLog.userId, signedIn.alice)).all();
      expect(log.some((e) => e.action === "support_window.closed" && (e.detail ?? "").includes(closed.id))).toBe(true);
    } finally {
      await api("/v1/me/support-access", { user: "alice", method: "DELETE" });
    }
  });

  it("b. a simultaneous refusal and approval of one request: exactly one wins, the other gets 409 problem+json", async () => {
    const s = await openSession({ token: await erinToken() });
    for (let round = 0; round < 3; round++) {
      const r = await requestPictures(s.id);
      const [approved, refused] = await Promise.all([
        api(`/v1/admin/support-image-requests/${r.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) }),
        api(`/v1/me/support-image-requests/${r.id}/refuse`, { user: "alice", method: "POST" }),
      ]);
      const statuses = [approved.status, refused.status].sort();
      expect(statuses).toEqual([200, 409]);
      const loser = approved.status === 409 ? approved : refused;
      await expectProblem(loser, 409, "conflict");
      const row = await services().db.select().from(supportImageRequests).where(eq(supportImageRequests.id, r.id)).get();
      expect(row?.status).toBe(approved.status === 200 ? "approved" : "refused");
      const decisions = (await services().db.select().from(operatorLog).where(eq(operatorLog.userId, signedIn.alice)).all()).filter(
        (e) => ["support_image.approved", "support_image.refused_by_user", "support_image.granted_by_user"].includes(e.action) && (e.detail ?? "").includes(r.id),
      );
      expect(decisions).toHaveLength(1);
    }
  });

  it("c. the operator log pages through every support read, none dropped (a cursor past the first page)", async () => {
    const s = await openSession({ user: "carol" });
    for (let i = 0; i < 3; i++) expect((await api(`/v1/admin/support-sessions/${s.id}/facts`, { user: "carol" })).status).toBe(200);
    expect((await api(`/v1/support/users/${signedIn.alice}`, { user: "carol", headers: { "x-support-reason": REASON } })).status).toBe(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(`/v1/admin/operator-log?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { user: "carol" });
      expect(res.status).toBe(200);
      const page = await json<{ items: { id: string }[]; nextCursor: string | null }>(res);
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    const all = await services().db.select().from(operatorLog).all();
    expect(all.length).toBeGreaterThan(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(all.map((r) => r.id).sort());
    // Each read, through the session or the older /v1/support route, is an operator log row.
    const reads = all.filter((r) => r.userId === signedIn.alice && r.operatorId === signedIn.carol);
    expect(reads.filter((r) => r.action === "support_session.read" && r.targetId === s.id)).toHaveLength(3);
    expect(reads.some((r) => r.action === "support.read")).toBe(true);
    await expectProblem(await api("/v1/admin/operator-log?cursor=nonsense", { user: "carol" }), 400, "validation_failed");
  });

  it("d. an account in the middle of deletion: opening or using a support session on it answers 404 and shows no facts", async () => {
    const gina = await signIn("gina");
    const gen = await insertGeneration(gina, "completed");
    await putObject(services(), { userId: gina, kind: "output", contentType: "image/jpeg", bytes: picture, width: 64, height: 64, generationId: gen });
    const before = await api("/v1/admin/support-sessions", { token: await erinToken(), ...post({ userId: gina, reason: REASON, ticket: "T-DEL" }) });
    const s = await json<Session>(before);
    const byUser = await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { token: await erinToken(), ...post({ generationId: gen, reason: "The result looks wrong to the user" }) });
    const r = await json<ImageRequest>(byUser);
    const other = await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { token: await erinToken(), ...post({ generationId: gen, reason: "The result looks wrong to the user" }) });
    const pending = await json<ImageRequest>(other);
    await api(`/v1/admin/support-image-requests/${r.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) });
    expect((await picture0(r.id)).status).toBe(200);

    const now = Date.now();
    await services().db.insert(tombstones).values({ userId: gina, externalId: "user_local_gina", stage: "started", createdAt: now, updatedAt: now });
    const auditBefore = (await auditRows(gina)).length;
    const answers = [
      await api("/v1/admin/support-sessions", { token: await erinToken(), ...post({ userId: gina, reason: REASON, ticket: "T-DEL" }) }),
      await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() }),
      await api(`/v1/support/users/${gina}`, { token: await erinToken(), headers: { "x-support-reason": REASON } }),
      await api(`/v1/support/users/${gina}/generations`, { token: await erinToken(), headers: { "x-support-reason": REASON } }),
      await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { token: await erinToken(), ...post({ generationId: gen, reason: "The result looks wrong to the user" }) }),
      await api(`/v1/admin/support-image-requests/${pending.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) }),
      await picture0(r.id),
      await api(`/v1/admin/support-sessions/${s.id}/end`, { token: await erinToken(), method: "POST" }),
    ];
    for (const res of answers) {
      const body = await expectProblem(res, 404, "not_found");
      expect(JSON.stringify(body)).not.toMatch(/credits|gen_[0-9a-f]{32}/);
    }
    const listed = await json<{ items: { id: string }[] }>(await api("/v1/admin/support-sessions", { token: await erinToken() }));
    expect(listed.items.map((i) => i.id)).not.toContain(s.id);
    // Nothing was written to the log of an account being erased.
    expect((await auditRows(gina)).length).toBe(auditBefore);
  });

  it("e. operator and support GET routes count against the read limit, writes against the write limit", async () => {
    const read = fakeRateLimit(1_000);
    const write = fakeRateLimit(1_000);
    const app = createApp();
    const call = async (path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${await tokenFor("carol")}`);
      return app.request(`${API}${path}`, { ...init, headers }, { ...env, RL_READ: read.binding, RL_WRITE: write.binding });
    };
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await api("/v1/openapi.json"));
    const gets = Object.entries(doc.paths)
      .filter(([p, item]) => (p.startsWith("/v1/admin/") || p.startsWith("/v1/support/")) && "get" in item)
      .map(([p]) => p.replaceAll(/\{[a-zA-Z]+\}/g, (m) => (m === "{index}" ? "0" : "x_unknown")));
    expect(gets.length).toBeGreaterThanOrEqual(8);
    for (const path of gets) {
      const [r0, w0] = [read.keys.length, write.keys.length];
      const res = await call(path, { headers: { "x-support-reason": REASON } });
      await res.body?.cancel();
      expect([path, read.keys.length - r0, write.keys.length - w0]).toEqual([path, 1, 0]);
    }
    expect(read.keys.every((k) => k === `read:user:${signedIn.carol}`)).toBe(true);
    // A write stays a write.
    const [r0, w0] = [read.keys.length, write.keys.length];
    const res = await call("/v1/admin/support-sessions/x_unknown/end", { method: "POST" });
    await res.body?.cancel();
    expect([read.keys.length - r0, write.keys.length - w0]).toEqual([0, 1]);
    // Over the read limit: 429, not unlimited.
    const tight = fakeRateLimit(0);
    const refused = await app.request(`${API}/v1/admin/operator-log`, { headers: { authorization: `Bearer ${await tokenFor("carol")}` } }, { ...env, RL_READ: tight.binding, RL_WRITE: write.binding });
    await expectProblem(refused, 429, "rate_limited");
  });

  it("support never sees an image id: not in the facts, the session list, the operator log, nor an error", async () => {
    const s = await openSession({ token: await erinToken() });
    const r = await requestPictures(s.id);
    await api(`/v1/admin/support-image-requests/${r.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) });
    expect((await picture0(r.id)).status).toBe(200);
    const texts = [
      await (await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() })).text(),
      await (await api("/v1/admin/support-sessions", { user: "carol" })).text(),
      await (await api("/v1/admin/operator-log?limit=200", { user: "carol" })).text(),
      await (await api(`/v1/admin/support-image-requests/${r.id}/images/5`, { token: await erinToken() })).text(),
      await (await api(`/v1/admin/support-image-requests/${r.id}/images/0`, { token: await frankToken() })).text(),
    ];
    for (const t of texts) expect(t).not.toMatch(/img_[0-9a-f]{32}|pho_[0-9a-f]{32}/);
  });

  it("an admin cannot make themselves an engineer or approve their own request another way", async () => {
    // No operator route changes roles: the OpenAPI document lists none.
    const doc = await json<{ paths: Record<string, unknown> }>(await api("/v1/openapi.json"));
    expect(Object.keys(doc.paths).filter((p) => /role|engineer/i.test(p))).toEqual([]);
    // A role claim the user could set (unsafe metadata) does not count; only `role` / public `metadata.role`.
    const forged = await tokenFor("carol", { claims: { unsafe_metadata: { role: "engineer" }, unsafeMetadata: { role: "engineer" } } });
    const s = await openSession({ token: forged });
    await expectProblem(
      await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { token: forged, ...post({ generationId: doneGen, reason: "The result looks wrong to the user" }) }),
      403,
      "forbidden",
    );
    // The requester cannot decide as the user (the account is not theirs), nor approve twice under the user route.
    const mine = await openSession({ token: await erinToken() });
    const r = await requestPictures(mine.id);
    await expectProblem(await api(`/v1/me/support-image-requests/${r.id}/allow`, { token: await erinToken(), method: "POST" }), 404, "not_found");
    await expectProblem(await api(`/v1/admin/support-image-requests/${r.id}/approve`, { token: await erinToken(), ...post({ note: "I approve myself" }) }), 403, "forbidden");
    expect((await picture0(r.id)).status).toBe(403);
  });

  it("an ended session allows no call at all: facts, requests, approval, the user's decision, pictures, ending again", async () => {
    const s = await openSession({ token: await erinToken() });
    const pending = await requestPictures(s.id);
    const approved = await requestPictures(s.id);
    await api(`/v1/admin/support-image-requests/${approved.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) });
    expect((await api(`/v1/admin/support-sessions/${s.id}/end`, { token: await erinToken(), method: "POST" })).status).toBe(200);
    const auditBefore = (await auditRows(signedIn.alice)).length;
    await expectProblem(await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() }), 403, "forbidden");
    await expectProblem(await api(`/v1/admin/support-sessions/${s.id}/image-requests`, { token: await erinToken(), ...post({ generationId: doneGen, reason: "The result looks wrong to the user" }) }), 403, "forbidden");
    await expectProblem(await api(`/v1/admin/support-image-requests/${pending.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) }), 409, "conflict");
    await expectProblem(await api(`/v1/me/support-image-requests/${pending.id}/allow`, { user: "alice", method: "POST" }), 409, "conflict");
    await expectProblem(await api(`/v1/me/support-image-requests/${pending.id}/refuse`, { user: "alice", method: "POST" }), 409, "conflict");
    const img = await picture0(approved.id);
    expect(img.status).toBe(403);
    expect(await carriesImage(img)).toBe(false);
    await expectProblem(await api(`/v1/admin/support-sessions/${s.id}/end`, { token: await erinToken(), method: "POST" }), 409, "conflict");
    expect((await auditRows(signedIn.alice)).length).toBe(auditBefore);
  });

  it("every step is in both the user's activity log and the operator log", async () => {
    const before = new Set((await services().db.select().from(operatorLog).all()).map((r) => r.id));
    const auditBefore = (await auditRows(signedIn.alice)).length;
    const s = await openSession({ token: await erinToken() });
    await api(`/v1/admin/support-sessions/${s.id}/facts`, { token: await erinToken() });
    await api(`/v1/support/users/${signedIn.alice}/generations`, { token: await erinToken(), headers: { "x-support-reason": REASON } });
    const a = await requestPictures(s.id);
    await api(`/v1/admin/support-image-requests/${a.id}/approve`, { user: "carol", ...post({ note: "Ticket checked with the user" }) });
    await picture0(a.id);
    const b = await requestPictures(s.id);
    await api(`/v1/me/support-image-requests/${b.id}/allow`, { user: "alice", method: "POST" });
    const c = await requestPictures(s.id);
    await api(`/v1/me/support-image-requests/${c.id}/refuse`, { user: "alice", method: "POST" });
    await api("/v1/me/support-access", { user: "alice", ...put(1) });
    await api("/v1/me/support-access", { user: "alice", method: "DELETE" });
    await api(`/v1/admin/support-sessions/${s.id}/end`, { token: await erinToken(), method: "POST" });
    const added = (await services().db.select().from(operatorLog).all()).filter((r) => !before.has(r.id)).map((r) => r.action);
    expect(added.sort()).toEqual(
      [
        "support_session.opened",
        "support_session.read",
        "support.read",
        "support_image.requested",
        "support_image.approved",
        "support_image.viewed",
        "support_image.requested",
        "support_image.granted_by_user",
        "support_image.requested",
        "support_image.refused_by_user",
        "support_window.opened",
        "support_window.closed",
        "support_session.ended",
      ].sort(),
    );
    // One activity entry per operator log row.
    expect((await auditRows(signedIn.alice)).length - auditBefore).toBe(added.length);
  });
});
