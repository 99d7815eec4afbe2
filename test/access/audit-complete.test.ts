/**
 * Promise (docs/audit-log.md "What is logged"): every read of a user's data
 * by anyone but the user is an entry in that user's log with the actor and a
 * reason. The routes are enumerated from /v1/openapi.json (tag `support` or a
 * `/v1/support/` or `/v1/admin/` path) and the jobs from JobMessageSchema, so
 * a new admin route or job kind without an entry fails here.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "../../worker/db/schema";
import { JobMessageSchema, type ParsedJobMessage } from "../../worker/queue/messages";
import type { AuditRow } from "../../worker/services/audit";
import { SYSTEM_READS } from "../../worker/services/audit-reads";
import { dataRightsHandlers } from "../../worker/services/data-rights-jobs";
import { deleteAccount } from "../../worker/services/deletion";
import { appendLedger } from "../../worker/services/credits";
import { requestExport } from "../../worker/services/export";
import { issueInputLink, redeemInputLink } from "../../worker/services/generation-inputs";
import { generationHandlers } from "../../worker/services/generation-jobs";
import { api, json, services, signIn } from "../helpers";
import { reservedQueuedGeneration } from "../data-rights/fixtures";
import { fakeFalForEachTest } from "../pipeline/fake-fal";
import { consentingUser, createBody, parentsFor, postGeneration, waitFor } from "../pipeline/fixtures";
import { auditRows } from "./fixtures";

const REASON = "Ticket 5150: checking the activity log is complete";
const ctx = { attempts: 1, deadLetter: false };
type Kind = ParsedJobMessage["kind"];

const fal = fakeFalForEachTest();

const newEntries = async (userId: string, before: number): Promise<AuditRow[]> => (await auditRows(userId)).filter((r) => r.seq > before);
const reasonOf = (r: AuditRow): unknown => (r.detail ? (JSON.parse(r.detail) as Record<string, unknown>)["reason"] : undefined);

describe("every support and admin route leaves an entry in the subject's log (security)", () => {
  it("walks every such operation of /v1/openapi.json as staff and finds support.accessed with the staff id and the stated reason", async () => {
    const subject = await signIn("alice");
    const carol = await signIn("carol");
    // Granted, so the image route answers too (a refusal is logged as well; test/access/support.test.ts).
    await services().db.update(users).set({ supportAccessUntil: Date.now() + 3_600_000 }).where(eq(users.id, subject));
    // Account reads need an open support session of the caller on that account (docs/decisions/0019).
    const opened = await api("/v1/admin/support-sessions", {
      user: "carol",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: subject, reason: REASON, ticket: "T-5150" }),
    });
    expect(opened.status).toBe(201);
    const doc = await json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>(await api("/v1/openapi.json"));
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        // Operator actions on /v1/admin/* name no user in their path; the ones that concern an account
        // (a takedown, a legal demand's notice, an incident notice) are proven to land in its log in test/privacy-team/.
        .filter(([, op]) => op.tags?.includes("support") || /^\/v1\/support\//.test(path))
        .map(([method]) => ({ method: method.toUpperCase(), path })),
    );
    expect(ops.length).toBeGreaterThanOrEqual(3);
    // Staff operations that read no user's data, each with why; any other one must log to its subject.
    const NO_USER_DATA: Record<string, string> = {
      "GET /v1/support/operations": "lists failed background tasks; their refs hold no personal data (worker/routes/support.ts)",
    };
    const missing: string[] = [];
    for (const op of ops.filter((o) => !(`${o.method} ${o.path}` in NO_USER_DATA))) {
      const url = op.path.replace("{userId}", subject);
      expect(url, `${op.method} ${op.path} has a parameter this test cannot fill`).not.toMatch(/[{}]/);
      const before = (await auditRows(subject)).length;
      const res = await api(url, { method: op.method, user: "carol", headers: { "x-support-reason": REASON } });
      expect(res.status, `${op.method} ${op.path}`).toBeLessThan(300);
      const entry = (await newEntries(subject, before)).find((r) => r.actorType === "support" && r.actorId === carol && reasonOf(r) === REASON);
      if (!entry) missing.push(`${op.method} ${op.path}`);
    }
    expect(missing).toEqual([]);
  });
});

/**
 * What each job kind records in its subject's log. A kind that touches no
 * user's data says so; a new kind missing here fails the walk.
 */
const JOBS: Record<Kind, ((userId: string) => Promise<(rows: AuditRow[]) => boolean>) | { noUserData: string }> = {
  "generation.submit": async (userId) => {
    const parents = await parentsFor(userId);
    const res = await postGeneration("dave", createBody(parents));
    expect(res.status).toBe(202);
    const { id } = await json<{ id: string }>(res);
    // The real queue runs generation.submit.
    await waitFor(id, (r) => r.status === "submitted");
    return (rows) => rows.some((r) => r.action === "data.read" && r.actorType === "system" && r.actorId === SYSTEM_READS["generation.submit"].actor && r.targetId === id && typeof reasonOf(r) === "string");
  },
  "generation.poll": async (userId) => {
    const id = await submitted(userId);
    await generationHandlers()["generation.poll"](services(), { kind: "generation.poll", generationId: id, attempt: 0 }, ctx);
    return (rows) => rows.some((r) => r.action === "generation.completed" && r.actorType === "system" && r.targetId === id);
  },
  "generation.finalize": async (userId) => {
    const id = await submitted(userId);
    await generationHandlers()["generation.finalize"](services(), { kind: "generation.finalize", generationId: id }, ctx);
    return (rows) => rows.some((r) => r.action === "generation.completed" && r.actorType === "system" && r.targetId === id);
  },
  "export.build": async (userId) => {
    const { row } = await requestExport(services(), { userId, actor: { type: "user", id: userId }, meta: { requestId: null, ipPrefix: null, userAgent: null } });
    await dataRightsHandlers()["export.build"](services(), { kind: "export.build", exportId: row.id }, ctx);
    return (rows) =>
      rows.some((r) => r.action === "data.read" && r.actorType === "system" && r.actorId === SYSTEM_READS["export.build"].actor && r.targetId === row.id && typeof reasonOf(r) === "string");
  },
  "account.delete": async (userId) => {
    // The job resumes a deletion; the entry (and the final checkpoint) were written when it started.
    let held: AuditRow[] = [];
    await deleteAccount(services(), userId, {
      source: "clerk_webhook",
      retryViaQueue: false,
      afterStage: async (stage) => {
        if (stage === "started") {
          held = await auditRows(userId);
          throw new Error("interrupted on purpose");
        }
      },
    });
    await dataRightsHandlers()["account.delete"](services(), { kind: "account.delete", userId }, ctx);
    expect(await auditRows(userId)).toEqual([]);
    return () => held.some((r) => r.action === "account.deleted" && r.actorType === "system" && r.actorId === "account-deletion:clerk_webhook");
  },
  "fal.payloads_delete": { noUserData: "asks Fal to delete a finished request's payloads by its request id; reads nothing BabyPic stores about the user" },
  // Not an entry today: it reads the address the mail goes to (from Clerk, or the sealed column), and for an
  // account-deletion confirmation the account and its log are already gone. Noted in docs/audit-log.md.
  "mail.send": { noUserData: "reads only the recipient address of a mail to the user (no photos, results or log)" },
  "webhook.deliver": { noUserData: "posts ids and a status the user's own event produced to the endpoint the user registered; reads no stored data of theirs" },
  "dev.ping": { noUserData: "a development-only queue round trip for bench/pipeline; it carries no user id" },
};

/** A generation of `userId` submitted to (fake) Fal and completed there, not yet finalized here. */
async function submitted(userId: string): Promise<string> {
  const res = await postGeneration("dave", createBody(await parentsFor(userId)));
  const { id } = await json<{ id: string }>(res);
  const row = await waitFor(id, (r) => r.status === "submitted");
  fal.complete(row.providerRequestId ?? "");
  return id;
}

describe("every job kind leaves an entry in its subject's log (security)", () => {
  it("walks every kind of JobMessageSchema", async () => {
    const kinds = JobMessageSchema.options.map((o) => o.shape.kind.value);
    expect(Object.keys(JOBS).sort()).toEqual([...kinds].sort());
    const userId = await consentingUser("dave");
    await appendLedger(services().db, { userId, delta: 10, reason: "adjustment", reference: "audit-complete" }, Date.now());
    const got: Record<string, boolean | string> = {};
    for (const kind of kinds) {
      const job = JOBS[kind];
      if ("noUserData" in job) {
        got[kind] = job.noUserData;
        continue;
      }
      const subject = kind === "account.delete" ? await signIn("erin") : userId;
      const before = (await auditRows(subject)).length;
      const check = await job(subject);
      got[kind] = check(kind === "account.delete" ? [] : await newEntries(subject, before));
    }
    expect(got).toEqual(Object.fromEntries(kinds.map((k) => [k, (JOBS[k] as { noUserData?: string }).noUserData ?? true])));
  });

  it("the model fetching a parent photo through its one-time link is an entry (actor model-provider, with the reason)", async () => {
    const userId = await consentingUser("frank");
    const parents = await parentsFor(userId);
    const gen = await reservedQueuedGeneration(userId, Date.now(), Date.now() + 3_600_000, [parents.motherPhotoId, parents.fatherPhotoId]);
    const before = (await auditRows(userId)).length;
    const link = await issueInputLink(services(), { generationId: gen, userId, objectId: parents.motherPhotoId });
    const token = new URL(link).pathname.split("/").pop() ?? "";
    expect((await redeemInputLink(services(), token)).ok).toBe(true);
    const entry = (await newEntries(userId, before)).find((r) => r.action === "data.read");
    expect(entry).toMatchObject({ actorType: "system", actorId: "model-provider", targetType: "photo", targetId: parents.motherPhotoId });
    expect(reasonOf(entry as AuditRow)).toBe(SYSTEM_READS["generation.input"].reason);
  });
});
