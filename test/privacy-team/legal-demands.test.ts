/**
 * Legal demands and /v1/transparency (issue 16, item 4): the record, the
 * decision with exactly what was produced, the user notification (sent, or
 * deferred with a reason and review date, without tipping the user off),
 * and a transparency report whose counts are the records.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, legalDemands, notices, outbox } from "../../worker/db/schema";
import { api, expectProblem, json, services, signedInUsers } from "../helpers";

interface Demand {
  id: string;
  decision: string;
  producedData: string[];
  notification: string;
  deferReason: string | null;
  deferReviewAt: string | null;
}
interface Year {
  year: number;
  total: number;
  byType: Record<string, number>;
  byOutcome: Record<string, number>;
  counts: { type: string; outcome: string; count: number }[];
  accountsAffected: number;
  usersNotified: number;
  notificationsDeferred: number;
}

const post = (path: string, body: unknown) => api(path, { method: "POST", user: "carol", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function record(body: Record<string, unknown>): Promise<Demand> {
  const res = await post("/v1/admin/legal-demands", { authority: "Example Police", legalBasis: "StPO §100", ...body });
  expect(res.status).toBe(201);
  return json<Demand>(res);
}

async function decide(id: string, decision: string, producedData: string[]): Promise<Demand> {
  const res = await post(`/v1/admin/legal-demands/${id}/decision`, { decision, note: "Reviewed by counsel.", producedData });
  expect(res.status).toBe(200);
  return json<Demand>(res);
}

const future = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
const signedIn = signedInUsers("alice", "bob", "carol");

describe("legal demands", () => {
  it("records the decision and exactly what was produced; a rejection produces nothing, compliance lists each item", async () => {
    const d = await record({ type: "court_order", receivedAt: "2026-03-01", userId: signedIn.alice });
    expect(d).toMatchObject({ decision: "pending", notification: "pending", producedData: [] });
    await expectProblem(await post(`/v1/admin/legal-demands/${d.id}/decision`, { decision: "complied", note: "Nothing listed.", producedData: [] }), 400, "validation_failed");
    await expectProblem(await post(`/v1/admin/legal-demands/${d.id}/decision`, { decision: "rejected", note: "Overbroad.", producedData: ["email"] }), 400, "validation_failed");
    const done = await decide(d.id, "partially_complied", ["account creation date", "number of generations"]);
    expect(done.producedData).toEqual(["account creation date", "number of generations"]);
    await expectProblem(await post(`/v1/admin/legal-demands/${d.id}/decision`, { decision: "rejected", note: "Changed my mind.", producedData: [] }), 409, "conflict");
  });

  it("a deferred notification has a reason and a review date, and leaves nothing the user can see", async () => {
    const d = await record({ type: "search_warrant", receivedAt: "2026-04-02", userId: signedIn.bob });
    await decide(d.id, "complied", ["account creation date"]);
    const res = await post(`/v1/admin/legal-demands/${d.id}/notification`, { status: "deferred", reason: "Court ordered non-disclosure for 90 days.", reviewAt: future });
    expect(res.status).toBe(200);
    expect(await json<Demand>(res)).toMatchObject({ notification: "deferred", deferReason: "Court ordered non-disclosure for 90 days.", deferReviewAt: `${future}T00:00:00.000Z` });
    const db = services().db;
    expect(await db.select().from(notices).where(eq(notices.userId, signedIn.bob)).all()).toEqual([]);
    expect(await db.select().from(outbox).where(eq(outbox.recipient, "bob@example.test")).all()).toEqual([]);
    const bobsLog = await db.select().from(auditLog).where(eq(auditLog.userId, signedIn.bob)).all();
    expect(bobsLog.filter((e) => e.actorType === "support")).toEqual([]);
    await expectProblem(await post(`/v1/admin/legal-demands/${d.id}/notification`, { status: "deferred", reason: "Review in the past.", reviewAt: "2020-01-01" }), 400, "validation_failed");
  });

  it("a sent notification tells the user the authority, legal basis and exactly what was produced, in the app and in their activity log", async () => {
    const d = await record({ type: "subpoena", receivedAt: "2026-05-03", userId: signedIn.alice });
    await decide(d.id, "complied", ["account creation date", "credit balance"]);
    expect((await post(`/v1/admin/legal-demands/${d.id}/notification`, { status: "sent" })).status).toBe(200);
    const mine = await json<{ items: { kind: string; body: string }[] }>(await api("/v1/me/notices", { user: "alice" }));
    const n = mine.items.find((x) => x.kind === "legal_demand");
    expect(n?.body).toContain("Example Police");
    expect(n?.body).toContain("StPO §100");
    expect(n?.body).toContain("We produced exactly: account creation date; credit balance.");
    const activity = await json<{ items: { action: string; summary: string }[] }>(await api("/v1/account/audit", { user: "alice" }));
    expect(activity.items.some((e) => e.action === "operator.action" && e.summary.includes("subpoena from Example Police"))).toBe(true);
    const mail = await services().db.select().from(outbox).where(eq(outbox.recipient, "alice@example.test")).all();
    expect(mail.some((m) => m.body.includes("We produced exactly: account creation date; credit balance."))).toBe(true);
    await expectProblem(await post(`/v1/admin/legal-demands/${d.id}/notification`, { status: "sent" }), 409, "conflict");
  });
});

describe("transparency report", () => {
  it("is public and its counts are exactly the records, per year, type and outcome", async () => {
    await decide((await record({ type: "subpoena", receivedAt: "2025-11-30" })).id, "rejected", []);
    await record({ type: "emergency", receivedAt: "2025-12-31" });
    await decide((await record({ type: "court_order", receivedAt: "2026-01-01" })).id, "rejected", []);

    const res = await api("/v1/transparency");
    expect(res.status).toBe(200);
    const report = await json<{ years: Year[] }>(res);

    // Recount from the rows themselves.
    const rows = await services().db.select().from(legalDemands).all();
    for (const y of report.years) {
      const ofYear = rows.filter((r) => new Date(r.receivedAt).getUTCFullYear() === y.year);
      expect(y.total).toBe(ofYear.length);
      for (const c of y.counts) expect(c.count).toBe(ofYear.filter((r) => r.type === c.type && r.decision === c.outcome).length);
      expect(y.counts.reduce((n, c) => n + c.count, 0)).toBe(ofYear.length);
      for (const [t, n] of Object.entries(y.byType)) expect(n).toBe(ofYear.filter((r) => r.type === t).length);
      for (const [o, n] of Object.entries(y.byOutcome)) expect(n).toBe(ofYear.filter((r) => r.decision === o).length);
    }
    expect(report.years.reduce((n, y) => n + y.total, 0)).toBe(rows.length);

    // And the numbers this file created.
    const y2026 = report.years.find((y) => y.year === 2026);
    const y2025 = report.years.find((y) => y.year === 2025);
    expect(y2025).toMatchObject({ total: 2, byOutcome: { rejected: 1, pending: 1, complied: 0, partially_complied: 0 }, accountsAffected: 0 });
    expect(y2026).toMatchObject({ total: 4, byType: { court_order: 2, search_warrant: 1, subpoena: 1, emergency: 0, other: 0 }, accountsAffected: 2, usersNotified: 1, notificationsDeferred: 1 });
    expect(y2026?.byOutcome).toEqual({ pending: 0, rejected: 1, complied: 2, partially_complied: 1 });
    expect(JSON.stringify(report)).not.toContain(signedIn.alice);
    expect(JSON.stringify(report)).not.toContain("Example Police");
  });
});
