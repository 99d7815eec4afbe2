/**
 * The privacy inbox (issue 16, item 2): a public contact form, requests with
 * a type, a one-month deadline, a status and a history; closing erases the
 * requester's email; a verified takedown deletes the generation and tells
 * its owner why.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { auditLog, generations, objects, operatorLog, outbox, privacyRequests } from "../../worker/db/schema";
import type { Bindings } from "../../worker/env";
import { oneMonthAfter } from "../../worker/services/privacy-requests";
import { putObject } from "../../worker/services/storage";
import { insertGeneration } from "../access/fixtures";
import { api, expectProblem, json, services, signIn } from "../helpers";

interface AdminRequest {
  id: string;
  type: string;
  status: string;
  email: string | null;
  message: string | null;
  dueAt: string | null;
  history: { actor: string; action: string; note: string | null }[];
}

const post = (path: string, body: unknown, init: { user?: string; headers?: Record<string, string> } = {}) =>
  api(path, { method: "POST", ...(init.user ? { user: init.user } : {}), headers: { "content-type": "application/json", ...init.headers }, body: JSON.stringify(body) });

async function submit(body: Record<string, unknown>) {
  const res = await post("/v1/privacy-requests", body, { headers: { "cf-connecting-ip": "198.51.100.7" } });
  expect(res.status).toBe(201);
  return json<{ id: string; type: string; status: string; dueAt: string | null }>(res);
}

async function inbox(): Promise<AdminRequest[]> {
  const res = await api("/v1/admin/privacy-requests", { user: "carol" });
  expect(res.status).toBe(200);
  return (await json<{ items: AdminRequest[] }>(res)).items;
}

let alice = "";
beforeAll(async () => {
  alice = await signIn("alice");
  await signIn("carol");
});

describe("contact form: happy", () => {
  it("anyone can send a request without an account; GDPR requests are due one month later, questions have no deadline", async () => {
    const before = Date.now();
    const access = await submit({ type: "access", email: "someone@example.com", message: "Please send me all data you hold about me." });
    expect(access.status).toBe("received");
    expect(access.id).toMatch(/^prq_/);
    const due = Date.parse(access.dueAt ?? "");
    expect(due).toBeGreaterThanOrEqual(oneMonthAfter(before));
    expect(due).toBeLessThanOrEqual(oneMonthAfter(Date.now()));
    const question = await submit({ type: "question", email: "q@example.com", message: "Do you use my photos for training?" });
    expect(question.dueAt).toBeNull();
  });

  it("sets no cookie and stores no network address", async () => {
    const res = await post("/v1/privacy-requests", { type: "question", email: "c@example.com", message: "Is there a cookie here at all?" }, { headers: { "cf-connecting-ip": "203.0.113.99" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("set-cookie")).toBeNull();
    const { id } = await json<{ id: string }>(res);
    const row = await services().db.select().from(privacyRequests).where(eq(privacyRequests.id, id)).get();
    expect(JSON.stringify(row)).not.toContain("203.0.113");
  });

  it("one month is calendar months (Art. 12(3)): 31 January is due on the last day of February", () => {
    expect(new Date(oneMonthAfter(Date.UTC(2027, 0, 31, 10))).toISOString()).toBe("2027-02-28T10:00:00.000Z");
    expect(new Date(oneMonthAfter(Date.UTC(2028, 0, 31, 10))).toISOString()).toBe("2028-02-29T10:00:00.000Z");
    expect(new Date(oneMonthAfter(Date.UTC(2026, 11, 5))).toISOString()).toBe("2027-01-05T00:00:00.000Z");
  });
});

describe("contact form: errors", () => {
  it("bad input is a problem+json naming the fields, and stores nothing", async () => {
    const count = async () => (await services().db.select({ id: privacyRequests.id }).from(privacyRequests).all()).length;
    const n = await count();
    const bad = await expectProblem(await post("/v1/privacy-requests", { type: "complaint", email: "not-an-email", message: "short" }), 400, "validation_failed");
    const fields = (bad["errors"] as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(["email", "message", "type"]);
    const takedown = await expectProblem(await post("/v1/privacy-requests", { type: "takedown", email: "p@example.com", message: "That is me in the picture." }), 400, "validation_failed");
    expect(takedown["errors"]).toEqual([expect.objectContaining({ field: "subject" })]);
    const broken = await api("/v1/privacy-requests", { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(broken.status).toBe(400);
    expect(broken.headers.get("content-type")).toContain("application/problem+json");
    expect(await count()).toBe(n);
  });

  it("is rate limited per client IP through the RL_WRITE binding", async () => {
    const keys: string[] = [];
    const counts = new Map<string, number>();
    const RL_WRITE: RateLimit = {
      async limit({ key }) {
        keys.push(key);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return { success: (counts.get(key) ?? 0) <= 2 };
      },
    };
    const app = createApp();
    const bindings: Bindings = { ...env, RL_WRITE };
    const send = (ip: string) =>
      app.request(
        "/v1/privacy-requests",
        { method: "POST", headers: { "content-type": "application/json", "cf-connecting-ip": ip }, body: JSON.stringify({ type: "question", email: "r@example.com", message: "Rate limit me, please." }) },
        bindings,
      );
    expect((await send("192.0.2.1")).status).toBe(201);
    expect((await send("192.0.2.1")).status).toBe(201);
    const refused = await send("192.0.2.1");
    await expectProblem(refused, 429, "rate_limited");
    expect(refused.headers.get("retry-after")).toBeTruthy();
    expect((await send("192.0.2.2")).status).toBe(201);
    expect(keys).toEqual(["contact:ip:192.0.2.1", "contact:ip:192.0.2.1", "contact:ip:192.0.2.1", "contact:ip:192.0.2.2"]);
  });
});

describe("operator inbox", () => {
  it("lists requests with type, deadline, status and history; closing erases the requester's email and message", async () => {
    const { id } = await submit({ type: "deletion", email: "erase-me@example.com", message: "Please delete everything about me." });
    let item = (await inbox()).find((r) => r.id === id);
    expect(item).toMatchObject({ type: "deletion", status: "received", email: "erase-me@example.com" });
    expect(item?.dueAt).not.toBeNull();
    expect((await post(`/v1/admin/privacy-requests/${id}/status`, { status: "verifying", note: "Asked the requester to confirm the address." }, { user: "carol" })).status).toBe(200);
    expect((await post(`/v1/admin/privacy-requests/${id}/status`, { status: "completed", note: "No account with that address; told them so." }, { user: "carol" })).status).toBe(200);
    item = (await inbox()).find((r) => r.id === id);
    expect(item).toMatchObject({ status: "completed", email: null, message: null });
    expect(item?.history.map((h) => h.action)).toEqual(["received", "verifying", "completed"]);
    const row = await services().db.select().from(privacyRequests).where(eq(privacyRequests.id, id)).get();
    expect(JSON.stringify(row)).not.toContain("erase-me@example.com");
    const logged = await services().db.select().from(operatorLog).where(eq(operatorLog.targetId, id)).all();
    expect(logged.map((l) => l.action)).toEqual(["privacy_request.status", "privacy_request.status"]);
    await expectProblem(await post(`/v1/admin/privacy-requests/${id}/status`, { status: "in_progress", note: "Reopening is not allowed." }, { user: "carol" }), 409, "conflict");
  });
});

describe("takedown", () => {
  it("a verified takedown deletes the named generation and its images, and tells the owner why in the app, by mail and in the activity log", async () => {
    const s = services();
    const gen = await insertGeneration(alice, "completed");
    const output = await putObject(s, { userId: alice, kind: "output", contentType: "image/png", bytes: crypto.getRandomValues(new Uint8Array(256)), generationId: gen });
    const { id } = await submit({ type: "takedown", email: "pictured@example.com", message: "I am pictured in this image and never agreed.", subject: gen });

    const res = await post(`/v1/admin/privacy-requests/${id}/takedown`, { generationId: gen, note: "Requester sent a photo that matches; verified." }, { user: "carol" });
    expect(res.status).toBe(200);
    const body = await json<{ receiptId: string; ownerNotified: boolean; mailed: boolean }>(res);
    expect(body).toMatchObject({ ownerNotified: true, mailed: true });

    expect(await s.db.select().from(generations).where(eq(generations.id, gen)).get()).toBeUndefined();
    expect(await s.db.select().from(objects).where(eq(objects.id, output.id)).get()).toBeUndefined();
    expect((await api(`/v1/generations/${gen}`, { user: "alice" })).status).toBe(404);

    const notices = await json<{ items: { kind: string; title: string; body: string }[] }>(await api("/v1/me/notices", { user: "alice" }));
    const notice = notices.items.find((n) => n.kind === "takedown");
    expect(notice?.body).toContain(body.receiptId);
    expect(notice?.body).toContain("had not agreed");

    const mail = await s.db.select().from(outbox).where(eq(outbox.recipient, "alice@example.test")).all();
    expect(mail.some((m) => m.body.includes(body.receiptId) && m.subject.includes("removed"))).toBe(true);

    const entries = await s.db.select().from(auditLog).where(and(eq(auditLog.userId, alice), eq(auditLog.actorType, "support"))).all();
    const actions = entries.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["generation.deleted", "notice.sent", "operator.action"]));
    const activity = await json<{ items: { action: string; summary: string }[] }>(await api("/v1/account/audit", { user: "alice" }));
    expect(activity.items.find((e) => e.action === "operator.action")?.summary).toMatch(/^Support acted on your account because: A person pictured asked us to remove it/);

    const item = (await inbox()).find((r) => r.id === id);
    expect(item).toMatchObject({ status: "completed", email: null });
    expect(item?.history.map((h) => h.action)).toEqual(["received", "takedown"]);
  });

  it("refuses an unknown generation and a request that is not a takedown, deleting nothing", async () => {
    const gen = await insertGeneration(alice, "completed");
    const t = await submit({ type: "takedown", email: "p2@example.com", message: "This picture shows me without consent.", subject: "a link" });
    await expectProblem(await post(`/v1/admin/privacy-requests/${t.id}/takedown`, { generationId: `gen_${"0".repeat(32)}`, note: "Checking an unknown id." }, { user: "carol" }), 404, "not_found");
    const q = await submit({ type: "question", email: "p3@example.com", message: "Just a question about you." });
    await expectProblem(await post(`/v1/admin/privacy-requests/${q.id}/takedown`, { generationId: gen, note: "Wrong request type." }, { user: "carol" }), 409, "conflict");
    expect(await services().db.select().from(generations).where(eq(generations.id, gen)).get()).toBeDefined();
  });
});
