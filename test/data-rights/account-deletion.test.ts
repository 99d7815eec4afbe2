/**
 * DELETE /v1/account (docs/architecture.md; GDPR Art. 17): the key is shredded first,
 * then every R2 object and every row of the user goes, except an anonymous
 * receipt (the confirmation mail leaves the development outbox when the
 * deletion completes). Interrupted deletions finish on the sweep.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { deletionReceipts, objects, outbox, tombstones, users } from "../../worker/db/schema";
import { runSweeps } from "../../worker/scheduled";
import { userDataKey } from "../../worker/services/crypto/keys";
import { deleteAccount, subjectHash } from "../../worker/services/deletion";
import { RESEND_API_URL } from "../../worker/services/mailer";
import { signedUrlFor } from "../../worker/services/signed-links";
import { getObject, openObjectStream } from "../../worker/services/storage";
import { api, expectProblem, json, services, tokenFor } from "../helpers";
import { network } from "../network";
import { FakeClerk } from "../clerk-fake";
import type { JobMessage } from "../../worker/queue/messages";
import { DELETED_RECIPIENT, sendQueuedMail } from "../../worker/services/mail-jobs";
import { listIssues } from "../../worker/services/ops-issues";
import { allR2Keys, allTables, MINUTE, rowsMentioning, schemaTables, seedAccount, type SeededAccount } from "./fixtures";

const CONFIRM = { method: "DELETE", headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) } as const;

function needles(a: SeededAccount, extra: string[] = []): string[] {
  return [a.userId, a.externalId, a.generationId, ...a.photoIds, ...a.outputIds, a.apiKeyId, a.paymentTxnId, ...extra];
}

async function fileLink(a: SeededAccount): Promise<string> {
  const objectId = a.outputIds[0] ?? "";
  return (await signedUrlFor(services(), { objectId, ownerId: a.userId })).url;
}

interface Deleted {
  status: string;
  receipt: { id: string; kind: string; subjectHash: string; counts: Record<string, number>; deletedAt: string };
}

describe("account deletion: happy", () => {
  it("leaves nothing of the user in any table or R2 prefix but the anonymous receipt", async () => {
    const alice = await seedAccount("alice", 1);
    const bob = await seedAccount("bob", 2);
    const link = await fileLink(alice);
    const before = await api(new URL(link).pathname + new URL(link).search, {});
    expect(before.status).toBe(200);
    await before.arrayBuffer();
    expect(await rowsMentioning([alice.userId])).not.toHaveLength(0);

    const res = await api("/v1/account", { ...CONFIRM, user: "alice" });
    expect(res.status).toBe(200);
    const body = await json<Deleted>(res);
    expect(body.status).toBe("deleted");
    expect(body.receipt.kind).toBe("account");
    expect(body.receipt.id).toMatch(/^rcp_/);
    expect(body.receipt.subjectHash).toBe(await subjectHash(services(), "account", alice.userId));
    expect(body.receipt.counts).toMatchObject({ accounts: 1, photos: 2, outputs: 2, generations: 1, apiKeys: 1, payments: 1 });
    expect(body.receipt.counts["auditEntries"]).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toContain(alice.userId);

    // Every table the database has, which includes every table the schema declares.
    const tables = await allTables();
    for (const t of schemaTables()) expect(tables).toContain(t);
    const email = "alice@example.test";
    // The mail goes through the queue (services/mail-jobs.ts); wait for the consumer to deliver it.
    const delivered = async () => (await services().db.select().from(outbox).all()).filter((m) => m.body.includes(body.receipt.id));
    for (let i = 0; i < 100 && (await delivered()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const mail = await delivered();
    expect(mail).toHaveLength(1);
    // Nothing names her, not even the outbox: the confirmation is kept without her address.
    expect(mail[0]?.recipient).toBe(DELETED_RECIPIENT);
    expect(mail[0]?.body).not.toContain(alice.userId);
    expect(await rowsMentioning(needles(alice, [email]))).toEqual([]);
    const receipt = await services().db.select().from(deletionReceipts).where(eq(deletionReceipts.id, body.receipt.id)).get();
    expect(receipt?.subjectHash).toBe(body.receipt.subjectHash);

    expect((await allR2Keys()).filter((k) => k.includes(alice.userId))).toEqual([]);

    // Bob is untouched.
    expect((await allR2Keys()).filter((k) => k.includes(bob.userId)).length).toBe(5);
    const bobObj = await getObject(services(), bob.userId, bob.outputIds[0] ?? "");
    expect(bobObj?.bytes).toEqual(bob.plain.get(bob.outputIds[0] ?? ""));

    // The link issued before deletion is dead. (Probing it is logged as a refused
    // link, with the requested path and no user id, like any other probe.)
    const after = await api(new URL(link).pathname + new URL(link).search, {});
    expect(after.status).not.toBe(200);
    expect(after.headers.get("content-type") ?? "").not.toContain("image");
  });

  it("signing in again with the same identity (a token issued after the deletion) starts a fresh, empty account", async () => {
    const a = await seedAccount("fresh-1", 3);
    // The deletion completed a minute ago by the services' clock, so the token made below is issued after it.
    expect((await deleteAccount(services({ now: () => Date.now() - MINUTE }), a.userId, { source: "user" }))?.status).toBe("deleted");
    const me = await json<{ id: string; credits: number; consent: unknown }>(await api("/v1/me", { user: a.user }));
    expect(me.id).not.toBe(a.userId);
    expect(me.credits).toBe(Number(env.FREE_CREDITS));
    expect(me.consent).toBeNull();
    const gens = await json<{ items: unknown[] }>(await api("/v1/generations", { user: a.user }));
    expect(gens.items).toEqual([]);
  });

  it("asks Clerk to delete the identity when a secret key is configured", async () => {
    const a = await seedAccount("clerk-1", 4);
    const clerk = new FakeClerk().add({ id: a.externalId, emails: ["clerk-1@example.test"] }).use();
    const seen: { id: string; auth: string | null }[] = [];
    network.use(
      http.delete("https://api.clerk.com/v1/users/:id", ({ params, request }) => {
        seen.push({ id: String(params["id"]), auth: request.headers.get("authorization") });
        return HttpResponse.json({ id: params["id"], object: "user", deleted: true });
      }),
    );
    const base = services();
    const s = services({ config: { ...base.config, CLERK_SECRET_KEY: "sk_test_clerk_delete" } });
    const res = await deleteAccount(s, a.userId, { source: "user" });
    expect(res?.status).toBe("deleted");
    expect(seen).toEqual([{ id: a.externalId, auth: "Bearer sk_test_clerk_delete" }]);
    // The mail's address was read from Clerk before the identity was deleted.
    expect(clerk.calls.getUser).toBe(1);
  });

  it("treats Clerk's 404 (identity already gone) as done", async () => {
    const a = await seedAccount("clerk-2", 5);
    // Clerk has no such user any more: both the address lookup and the delete answer 404.
    new FakeClerk().use();
    const base = services();
    const res = await deleteAccount(services({ config: { ...base.config, CLERK_SECRET_KEY: "sk_test_x" } }), a.userId, { source: "clerk_webhook" });
    expect(res?.status).toBe("deleted");
    // No address anywhere: recorded for the operator instead of skipped silently.
    const issues = await listIssues(services(), { statuses: ["failed"] });
    expect(issues.find((i) => i.ref === `account_deleted/${res?.receipt.id ?? ""}`)).toMatchObject({ kind: "mail.send", lastError: expect.stringMatching(/no email address/) });
    expect(await services().db.select().from(tombstones).where(eq(tombstones.userId, a.userId)).get()).toBeUndefined();
  });

  it("sends the confirmation through the mail provider when configured, keeping nothing in the outbox", async () => {
    const a = await seedAccount("carol", 6);
    const sent: { body: Record<string, unknown>; key: string | null; auth: string | null }[] = [];
    network.use(
      http.post(RESEND_API_URL, async ({ request }) => {
        sent.push({ body: (await request.json()) as Record<string, unknown>, key: request.headers.get("idempotency-key"), auth: request.headers.get("authorization") });
        return HttpResponse.json({ id: "email_1" });
      }),
    );
    const base = services();
    const queued: JobMessage[] = [];
    const JOBS = { send: async (m: JobMessage) => void queued.push(m) } as unknown as Queue<JobMessage>;
    const s = services({ env: { ...env, JOBS }, config: { ...base.config, MAIL_API_KEY: "re_test", MAIL_FROM: "BabyPic <privacy@babypic.test>" } });
    const res = await deleteAccount(s, a.userId, { source: "user" });
    expect(res?.status).toBe("deleted");
    const mail = queued.find((m) => m.kind === "mail.send");
    if (mail?.kind !== "mail.send") throw new Error("no mail queued");
    expect(await sendQueuedMail(s, mail)).toBe("sent");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body["to"]).toEqual(["carol@example.test"]);
    expect(sent[0]?.body["from"]).toBe("BabyPic <privacy@babypic.test>");
    expect(String(sent[0]?.body["text"])).toContain(res?.receipt.id ?? "missing");
    expect(sent[0]?.key).toBe(`account_deleted/${res?.receipt.id ?? ""}`);
    expect(sent[0]?.auth).toBe("Bearer re_test");
    expect(await services().db.select().from(outbox).where(eq(outbox.recipient, "carol@example.test")).all()).toEqual([]);
  });
});

describe("account deletion: crash recovery", () => {
  it("an interruption right after the key shred is finished by the next sweep", async () => {
    const a = await seedAccount("crash-1", 7);
    const link = await fileLink(a);
    const res = await deleteAccount(services(), a.userId, {
      source: "user",
      retryViaQueue: false,
      afterStage: (stage) => {
        if (stage === "key_shredded") throw new Error("injected crash after shred");
      },
    });
    expect(res?.status).toBe("pending");

    // Midway: the key is gone, so the data that is still there is already unreadable.
    const tomb = await services().db.select().from(tombstones).where(eq(tombstones.userId, a.userId)).get();
    expect(tomb?.stage).toBe("key_shredded");
    expect(await env.KEYS.get(`keys/${a.userId}`)).toBeNull();
    expect((await services().db.select().from(objects).where(eq(objects.userId, a.userId)).all()).length).toBe(4);
    expect(await getObject(services(), a.userId, a.outputIds[0] ?? "")).toBeNull();
    // The account can no longer act: its session and its API key are refused, its links too.
    await expectProblem(await api("/v1/me", { user: a.user }), 401, "account_deleted");
    await expectProblem(await api("/v1/me", { token: a.apiKeySecret }), 401, "account_deleted");
    expect((await api(new URL(link).pathname + new URL(link).search)).status).not.toBe(200);

    // A sweep too soon leaves it to the running attempt; the next cron run finishes it.
    const results = await runSweeps(services({ now: () => Date.now() + 5 * MINUTE }));
    expect(results.find((r) => r.name === "account.tombstones")?.ok).toBe(true);
    expect(await services().db.select().from(tombstones).where(eq(tombstones.userId, a.userId)).get()).toBeUndefined();
    expect(await rowsMentioning(needles(a))).toEqual([]);
    expect((await allR2Keys()).filter((k) => k.includes(a.userId))).toEqual([]);
    const receipts = await services()
      .db.select()
      .from(deletionReceipts)
      .where(eq(deletionReceipts.subjectHash, await subjectHash(services(), "account", a.userId)))
      .all();
    expect(receipts).toHaveLength(1);
    expect(receipts[0]?.id).toBe(res?.receipt.id);
  });

  it("a Clerk outage leaves the deletion pending after the local data is gone; the sweep completes it", async () => {
    const a = await seedAccount("crash-2", 8);
    const base = services();
    const config = { ...base.config, CLERK_SECRET_KEY: "sk_test_outage" };
    new FakeClerk().add({ id: a.externalId, emails: ["crash-2@example.test"] }).use();
    network.use(http.delete("https://api.clerk.com/v1/users/:id", () => HttpResponse.json({ errors: [{ code: "internal", message: "down" }] }, { status: 503 })));
    const res = await deleteAccount(services({ config }), a.userId, { source: "user", retryViaQueue: false });
    expect(res?.status).toBe("pending");
    expect((await services().db.select().from(tombstones).where(eq(tombstones.userId, a.userId)).get())?.stage).toBe("rows_deleted");
    expect(await services().db.select().from(users).where(eq(users.id, a.userId)).get()).toBeUndefined();

    network.resetHandlers();
    let deleted = 0;
    network.use(
      http.delete("https://api.clerk.com/v1/users/:id", ({ params }) => {
        deleted++;
        return HttpResponse.json({ id: params["id"], deleted: true });
      }),
    );
    await runSweeps(services({ config, now: () => Date.now() + 5 * MINUTE }));
    expect(deleted).toBe(1);
    expect(await services().db.select().from(tombstones).where(eq(tombstones.userId, a.userId)).get()).toBeUndefined();
  });
});

describe("account deletion: the confirmation's address", () => {
  it("Clerk rate-limits the address lookup: the deletion waits before deleting the identity, then the sweep mails the address Clerk had", async () => {
    const a = await seedAccount("addr-1", 11);
    const clerk = new FakeClerk().add({ id: a.externalId, emails: ["addr-1@example.test"] }).use();
    clerk.rateLimited = 1;
    const base = services();
    const queued: JobMessage[] = [];
    const JOBS = { send: async (m: JobMessage) => void queued.push(m) } as unknown as Queue<JobMessage>;
    const config = { ...base.config, CLERK_SECRET_KEY: "sk_test_addr" };
    const res = await deleteAccount(services({ env: { ...env, JOBS }, config }), a.userId, { source: "user", retryViaQueue: false });
    expect(res?.status).toBe("pending");
    expect((await services().db.select().from(tombstones).where(eq(tombstones.userId, a.userId)).get())?.stage).toBe("api_keys_revoked");
    expect(clerk.calls.deleteUser).toBe(0);

    await runSweeps(services({ env: { ...env, JOBS }, config, now: () => Date.now() + 5 * MINUTE }));
    expect(clerk.calls.deleteUser).toBe(1);
    const mail = queued.find((m) => m.kind === "mail.send");
    expect(mail).toMatchObject({ kind: "mail.send", template: "account_deleted", to: "addr-1@example.test", ref: res?.receipt.id });
  });
});

describe("account deletion: security", () => {
  it("crypto-shredding: an object copied aside before deletion cannot be decrypted afterwards", async () => {
    const a = await seedAccount("shred-1", 9);
    const s = services();
    const id = a.outputIds[0] ?? "";
    const row = await s.db.select().from(objects).where(eq(objects.id, id)).get();
    if (!row) throw new Error("seed missing");
    const stolen = new Uint8Array(await ((await env.BUCKET.get(row.r2Key))?.arrayBuffer() ?? new ArrayBuffer(0)));
    expect(stolen.length).toBeGreaterThan(0);
    // Sanity: before deletion the same bytes decrypt to the plaintext.
    expect((await getObject(s, a.userId, id))?.bytes).toEqual(a.plain.get(id));

    expect((await api("/v1/account", { ...CONFIRM, user: a.user })).status).toBe(200);

    // Put the copy (a backup, a leaked bucket) back exactly where it was, with its row.
    await env.BUCKET.put(row.r2Key, stolen);
    await s.db.insert(objects).values(row);
    const fresh = services();
    expect(await userDataKey(fresh, a.userId, { create: false })).toBeNull();
    expect(await getObject(fresh, a.userId, id)).toBeNull();
    expect(await openObjectStream(fresh, a.userId, id)).toBeNull();
    await env.BUCKET.delete(row.r2Key);
    await s.db.delete(objects).where(eq(objects.id, id));
  });

  it("API keys are revoked and stop working", async () => {
    const a = await seedAccount("keys-1", 10);
    expect((await api("/v1/me", { token: a.apiKeySecret })).status).toBe(200);
    expect((await api("/v1/account", { ...CONFIRM, user: a.user })).status).toBe(200);
    await expectProblem(await api("/v1/me", { token: a.apiKeySecret }), 401, "account_deleted");
  });
});

describe("account deletion: errors", () => {
  it("requires the typed confirmation and deletes nothing without it", async () => {
    const a = await seedAccount("confirm-1", 11);
    const bodies = [undefined, "{}", JSON.stringify({ confirm: "delete" }), JSON.stringify({ confirm: "DELETE", extra: 1 }), "not json"];
    for (const body of bodies) {
      const res = await api("/v1/account", { method: "DELETE", user: a.user, headers: { "content-type": "application/json" }, ...(body === undefined ? {} : { body }) });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    const me = await json<{ id: string }>(await api("/v1/me", { user: a.user }));
    expect(me.id).toBe(a.userId);
    expect((await getObject(services(), a.userId, a.outputIds[0] ?? ""))?.bytes).toEqual(a.plain.get(a.outputIds[0] ?? ""));
  });

  it("is refused to API keys and to anonymous callers", async () => {
    const a = await seedAccount("confirm-2", 12);
    await expectProblem(await api("/v1/account", { ...CONFIRM, token: a.apiKeySecret }), 403, "insufficient_scope");
    await expectProblem(await api("/v1/account", { ...CONFIRM }), 401, "unauthorized");
    await expectProblem(await api("/v1/account", { ...CONFIRM, token: await tokenFor(a.user, { ttlSeconds: 60, nowSeconds: Math.floor(Date.now() / 1000) - 3600 }) }), 401, "unauthorized");
    expect((await api("/v1/me", { user: a.user })).status).toBe(200);
  });
});
