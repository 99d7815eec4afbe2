/**
 * Mail that reaches people (issue 17 §1). Clerk's default session token has
 * no email claim, so with Clerk the address comes from Clerk's Backend API
 * when the mail is sent (a fake answering with Clerk's documented shapes).
 * A mail that cannot be sent is queued again with backoff and recorded in
 * ops_issues for the operator; it is never skipped silently.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { beforeAll, describe, expect, it } from "vitest";
import { outbox, users } from "../../worker/db/schema";
import type { JobMessage } from "../../worker/queue/messages";
import type { Services } from "../../worker/services";
import { sendQueuedMail } from "../../worker/services/mail-jobs";
import { RESEND_API_URL } from "../../worker/services/mailer";
import { listIssues, MAX_TASK_ATTEMPTS } from "../../worker/services/ops-issues";
import { localSubject } from "../../worker/auth/local-idp";
import { FakeClerk } from "../clerk-fake";
import { api, json, services, signIn } from "../helpers";
import { network } from "../network";

type MailJob = Extract<JobMessage, { kind: "mail.send" }>;

/** Services whose queue only records what is sent, with Clerk (and optionally Resend) configured. */
function withClerk(extra: Partial<Services["config"]> = {}): { s: Services; queued: { body: JobMessage; delaySeconds: number | undefined }[] } {
  const queued: { body: JobMessage; delaySeconds: number | undefined }[] = [];
  const JOBS = {
    send: async (body: JobMessage, opts?: QueueSendOptions) => void queued.push({ body, delaySeconds: opts?.delaySeconds }),
  } as unknown as Queue<JobMessage>;
  const base = services();
  return { s: services({ env: { ...env, JOBS }, config: { ...base.config, CLERK_SECRET_KEY: "sk_test_mail", ...extra } }), queued };
}

let userId = "";
let externalId = "";

beforeAll(async () => {
  userId = await signIn("mailer-1");
  // As with real Clerk: the session token carried no email, so none is stored.
  await services().db.update(users).set({ email: null }).where(eq(users.id, userId));
  externalId = localSubject("mailer-1");
});

const exportMail = (ref: string, attempt = 1): MailJob => ({ kind: "mail.send", template: "export_ready", ref, userId, attempt });

async function outboxFor(address: string) {
  return services().db.select().from(outbox).where(eq(outbox.recipient, address)).all();
}

describe("mail: happy", () => {
  it("reads the primary address from Clerk's Backend API at send time (the token has none)", async () => {
    const clerk = new FakeClerk().add({ id: externalId, emails: ["old@example.test", "primary@example.test"], primary: "primary@example.test" }).use();
    const { s } = withClerk();
    expect(await sendQueuedMail(s, exportMail("exp_happy"))).toBe("sent");
    expect(clerk.auth).toEqual(["Bearer sk_test_mail"]);
    const rows = await outboxFor("primary@example.test");
    expect(rows.map((r) => r.subject)).toEqual(["Your BabyPic data export is ready"]);
    expect(rows[0]?.body).not.toContain(userId);
    expect(await outboxFor("old@example.test")).toEqual([]);
  });

  it("an export that becomes ready is mailed through the queue (address resolved at send time)", async () => {
    await signIn("bob");
    const res = await api("/v1/account/exports", { method: "POST", user: "bob" });
    expect(res.status).toBe(202);
    // The real queue builds the export, then its mail.send job delivers (locally: the outbox).
    let mails: (typeof outbox.$inferSelect)[] = [];
    for (let i = 0; i < 200 && mails.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      mails = await outboxFor("bob@example.test");
    }
    expect(mails.map((m) => m.subject)).toEqual(["Your BabyPic data export is ready"]);
  });
});

describe("mail: errors are retried and shown, never skipped", () => {
  it("Clerk 429: queued again with backoff and shown as retrying; the next attempt sends and resolves it", async () => {
    const clerk = new FakeClerk().add({ id: externalId, emails: ["retry@example.test"] }).use();
    clerk.rateLimited = 1;
    const { s, queued } = withClerk();
    expect(await sendQueuedMail(s, exportMail("exp_429"))).toBe("retrying");
    expect(queued).toEqual([{ body: exportMail("exp_429", 2), delaySeconds: 30 }]);
    const open = await listIssues(services());
    expect(open.find((i) => i.ref === "export_ready/exp_429")).toMatchObject({ kind: "mail.send", status: "retrying", attempts: 1, lastError: expect.stringMatching(/429/) });
    expect(await outboxFor("retry@example.test")).toEqual([]);

    expect(await sendQueuedMail(s, exportMail("exp_429", 2))).toBe("sent");
    expect(await outboxFor("retry@example.test")).toHaveLength(1);
    const all = await listIssues(services(), { statuses: ["resolved"] });
    expect(all.find((i) => i.ref === "export_ready/exp_429")?.status).toBe("resolved");
  });

  it("attempts are bounded: the last one records the mail as failed and queues nothing", async () => {
    const clerk = new FakeClerk().use();
    clerk.rateLimited = 1;
    const { s, queued } = withClerk();
    expect(await sendQueuedMail(s, exportMail("exp_last", MAX_TASK_ATTEMPTS))).toBe("failed");
    expect(queued).toEqual([]);
    expect((await listIssues(services(), { statuses: ["failed"] })).find((i) => i.ref === "export_ready/exp_last")).toMatchObject({ attempts: MAX_TASK_ATTEMPTS });
  });

  it("Clerk 404 and no stored address: failed at once, visible to the operator, nothing sent", async () => {
    new FakeClerk().use();
    const { s, queued } = withClerk();
    expect(await sendQueuedMail(s, exportMail("exp_404"))).toBe("failed");
    expect(queued).toEqual([]);
    const res = await api("/v1/support/operations?status=failed", { user: "carol" });
    expect(res.status).toBe(200);
    const { items } = await json<{ items: { kind: string; ref: string; lastError: string }[] }>(res);
    expect(items.find((i) => i.ref === "export_ready/exp_404")).toMatchObject({ kind: "mail.send", lastError: "no email address known for the account" });
    // The operator view never carries an address.
    expect(JSON.stringify(items)).not.toMatch(/@/);
  });

  it("Clerk 404 with an address kept from the local sign-in: that address is used", async () => {
    new FakeClerk().use();
    await services().db.update(users).set({ email: "kept@example.test" }).where(eq(users.id, userId));
    const { s } = withClerk();
    expect(await sendQueuedMail(s, exportMail("exp_kept"))).toBe("sent");
    expect(await outboxFor("kept@example.test")).toHaveLength(1);
    await services().db.update(users).set({ email: null }).where(eq(users.id, userId));
  });

  it.each([
    [503, "retrying"],
    [429, "retrying"],
    [422, "failed"],
  ] as const)("the mail provider answering %i is %s", async (status, outcome) => {
    new FakeClerk().add({ id: externalId, emails: [`resend-${status}@example.test`] }).use();
    network.use(http.post(RESEND_API_URL, () => HttpResponse.json({ message: "no" }, { status })));
    const { s, queued } = withClerk({ MAIL_API_KEY: "re_x", MAIL_FROM: "a@b.test" });
    expect(await sendQueuedMail(s, exportMail(`exp_resend_${status}`))).toBe(outcome);
    expect(queued.length).toBe(outcome === "retrying" ? 1 : 0);
    expect((await listIssues(services(), { statuses: [outcome] })).some((i) => i.ref === `export_ready/exp_resend_${status}`)).toBe(true);
  });

  it("a mail message that reached the dead-letter queue is recorded as failed", async () => {
    const { mailHandlers } = await import("../../worker/services/mail-jobs");
    await mailHandlers()["mail.send"](services(), exportMail("exp_dlq", 3), { attempts: 4, deadLetter: true });
    expect((await listIssues(services(), { statuses: ["failed"] })).find((i) => i.ref === "export_ready/exp_dlq")).toMatchObject({ lastError: "dead-lettered" });
  });

  it("only staff see the operations list (404 for anyone else)", async () => {
    expect((await api("/v1/support/operations", { user: "mailer-1" })).status).toBe(404);
  });
});
