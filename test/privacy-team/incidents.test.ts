/**
 * Incidents (issue 16, item 3): declared with a window, data kinds and a
 * finder over the audit log; the 72-hour clock (GDPR Art. 33(1)); affected
 * users, and only they, get a notice and a mail naming what of theirs was
 * accessed (Art. 34); the post-mortem is public once published.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { notices, outbox } from "../../worker/db/schema";
import { appendAudit } from "../../worker/services/audit";
import { NOTIFY_AUTHORITY_MS } from "../../worker/services/incidents";
import { api, expectProblem, json, services, signedInUsers } from "../helpers";

interface Incident {
  id: string;
  slug: string;
  clock: { deadlineAt: string; running: boolean; remainingSeconds: number };
  affectedUsers: number | null;
  usersNotifiedAt: string | null;
  authorityNotifiedAt: string | null;
}

const post = (path: string, body: unknown, user = "carol") =>
  api(path, { method: "POST", user, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const HOUR = 3_600_000;
const signedIn = signedInUsers("alice", "bob", "dora", "carol");
const t0 = Date.now() - 10 * HOUR;

beforeAll(async () => {
  const db = services().db;
  // Inside the window, matching the finder: alice's two downloads of one image and one link use.
  await appendAudit(db, { userId: signedIn.alice, actor: { type: "user", id: null }, action: "file.downloaded", target: { type: "object", id: "img_leaked_one" } }, t0 + HOUR);
  await appendAudit(db, { userId: signedIn.alice, actor: { type: "user", id: null }, action: "file.downloaded", target: { type: "object", id: "img_leaked_one" } }, t0 + 2 * HOUR);
  await appendAudit(db, { userId: signedIn.alice, actor: { type: "user", id: null }, action: "link.used", target: { type: "object", id: "img_leaked_two" } }, t0 + 3 * HOUR);
  // Inside the window, another action: not affected.
  await appendAudit(db, { userId: signedIn.bob, actor: { type: "user", id: signedIn.bob }, action: "photo.viewed", target: { type: "photo", id: "pho_bob" } }, t0 + HOUR);
  // Matching action, outside the window: not affected.
  await appendAudit(db, { userId: signedIn.dora, actor: { type: "user", id: null }, action: "file.downloaded", target: { type: "object", id: "img_dora" } }, t0 - HOUR);
});

async function declare(awareAt: number): Promise<Incident> {
  const res = await post("/v1/admin/incidents", {
    title: "Signed links logged by a proxy",
    summary: "A misconfigured proxy logged signed image links.",
    awareAt: new Date(awareAt).toISOString(),
    windowStart: new Date(t0).toISOString(),
    windowEnd: new Date(t0 + 5 * HOUR).toISOString(),
    dataKinds: ["generated images"],
    finder: { actions: ["file.downloaded", "link.used"] },
  });
  expect(res.status).toBe(201);
  return json<Incident>(res);
}

describe("incidents: the 72-hour clock", () => {
  it("runs from awareness to awareness + 72 hours, counts down, and stops when the authority notification is recorded", async () => {
    const awareAt = Date.now() - 70 * HOUR;
    const inc = await declare(awareAt);
    expect(Date.parse(inc.clock.deadlineAt)).toBe(awareAt + NOTIFY_AUTHORITY_MS);
    expect(inc.clock.running).toBe(true);
    expect(inc.clock.remainingSeconds).toBeGreaterThan(2 * 3600 - 60);
    expect(inc.clock.remainingSeconds).toBeLessThanOrEqual(2 * 3600);

    const overdue = await declare(Date.now() - 73 * HOUR);
    expect(overdue.clock.remainingSeconds).toBeLessThan(0);

    const stopped = await post(`/v1/admin/incidents/${inc.id}/authority-notified`, { note: "Reported to the supervisory authority, case 123." });
    expect(stopped.status).toBe(200);
    expect((await json<Incident>(stopped)).clock.running).toBe(false);
    await expectProblem(await post(`/v1/admin/incidents/${inc.id}/authority-notified`, { note: "Twice is a mistake." }), 409, "conflict");
    const listed = await json<{ items: Incident[] }>(await api("/v1/admin/incidents", { user: "carol" }));
    expect(listed.items.find((i) => i.id === inc.id)?.authorityNotifiedAt).not.toBeNull();
  });

  it("refuses a window that ends before it starts", async () => {
    const res = await post("/v1/admin/incidents", {
      title: "Backwards window",
      summary: "This window is backwards on purpose.",
      windowStart: new Date(t0 + HOUR).toISOString(),
      windowEnd: new Date(t0).toISOString(),
      dataKinds: ["x data"],
      finder: { actions: ["link.used"] },
    });
    await expectProblem(res, 400, "validation_failed");
  });
});

describe("incidents: notices to affected users", () => {
  it("notifies exactly the users the finder matches inside the window, saying what of theirs was accessed, in the app and by mail, once", async () => {
    const inc = await declare(Date.now());
    const res = await post(`/v1/admin/incidents/${inc.id}/notify-users`, { confirm: true });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ notified: 1, mailed: 1 });

    const db = services().db;
    const forAlice = await db.select().from(notices).where(eq(notices.userId, signedIn.alice)).all();
    expect(forAlice).toHaveLength(1);
    const body = forAlice[0]?.body ?? "";
    expect(body).toContain("object img_leaked_one (2 times)");
    expect(body).toContain("object img_leaked_two");
    expect(body).toContain("generated images");
    expect(body).toContain(`/incidents/${inc.slug}`);
    expect(await db.select().from(notices).where(eq(notices.userId, signedIn.bob)).all()).toEqual([]);
    expect(await db.select().from(notices).where(eq(notices.userId, signedIn.dora)).all()).toEqual([]);

    const mail = await db.select().from(outbox).where(eq(outbox.recipient, "alice@example.test")).all();
    expect(mail.some((m) => m.body.includes("img_leaked_one") && m.subject.includes("Security incident"))).toBe(true);
    expect(await db.select().from(outbox).where(eq(outbox.recipient, "bob@example.test")).all()).toEqual([]);

    const seen = await json<{ items: { kind: string; title: string }[] }>(await api("/v1/me/notices", { user: "alice" }));
    expect(seen.items[0]).toMatchObject({ kind: "incident", title: "Security incident: Signed links logged by a proxy" });
    const activity = await json<{ items: { action: string; actor: { type: string } }[] }>(await api("/v1/account/audit", { user: "alice" }));
    expect(activity.items.some((e) => e.action === "notice.sent" && e.actor.type === "support")).toBe(true);

    await expectProblem(await post(`/v1/admin/incidents/${inc.id}/notify-users`, { confirm: true }), 409, "conflict");
    const listed = await json<{ items: Incident[] }>(await api("/v1/admin/incidents", { user: "carol" }));
    expect(listed.items.find((i) => i.id === inc.id)).toMatchObject({ affectedUsers: 1 });
  });
});

describe("incidents: post-mortem", () => {
  it("is public at /v1/incidents/{slug} only once published", async () => {
    const inc = await declare(Date.now());
    await expectProblem(await api(`/v1/incidents/${inc.slug}`), 404, "not_found");
    const text = "What happened: a proxy logged links. What we changed: links are no longer logged anywhere.";
    expect((await post(`/v1/admin/incidents/${inc.id}/publish`, { postMortem: text })).status).toBe(200);
    const pub = await api(`/v1/incidents/${inc.slug}`);
    expect(pub.status).toBe(200);
    const body = await json<{ postMortem: string; title: string; dataKinds: string[] }>(pub);
    expect(body).toMatchObject({ postMortem: text, title: "Signed links logged by a proxy", dataKinds: ["generated images"] });
    expect(JSON.stringify(body)).not.toContain(signedIn.alice);
  });
});
