/**
 * Deletion (GDPR Art. 17). Every deletion returns a receipt and
 * stores it in `deletion_receipts`: what kind, how many of each thing, when,
 * and an HMAC of the subject id under a service secret
 * (services/deletion-hmac.ts), never the id itself nor anything personal, nor
 * a plain hash anyone could confirm by guessing the id, so the receipt
 * outlives the account without identifying anyone. The service can match a
 * receipt to an id presented to it; the holder keeps the receipt itself.
 *
 * Account deletion runs in stages recorded on a tombstone row. Each stage is
 * idempotent, so a deletion interrupted anywhere is finished by running it
 * again from the top: the account.delete job and the cron sweep both do that.
 * The user's data key is destroyed first, so from that moment everything left
 * anywhere (R2, a copy, a backup) is unreadable ("crypto-shredding").
 */
import { forgetSessionsOf } from "../auth/session-cache";
import { emitEvent } from "./webhooks/events";
import { createClerkClient } from "@clerk/backend";
import { isClerkAPIResponseError } from "@clerk/backend/errors";
import { and, asc, count, eq, inArray, isNull, like, lte, ne, or, sql } from "drizzle-orm";
import {
  apiKeys,
  auditCheckpoints,
  webhookDeliveries,
  webhookEndpoints,
  auditLog,
  auditPending,
  deletedCredentials,
  deletionReceipts,
  notices,
  supportImageRequests,
  supportSessions,
  exportsTable,
  generations,
  ledger,
  objects,
  outbox,
  payments,
  securityLog,
  tombstones,
  users,
} from "../db/schema";
import { newId } from "../lib/ids";
import { errorText, logger } from "../lib/log";
import type { RequestMeta } from "../lib/request-meta";
import { appendAudit, type AuditDetail, type AuditEvent } from "./audit";
import { makeCheckpoint } from "./audit-checkpoints";
import type { Checkpoint } from "../lib/audit-verify";
import { endGeneration } from "./generation";
import { deleteProviderPayloads } from "./provider-cleanup";
import type { Services } from "./types";
import { deletedApiKeyRows, deletedSubjectLookup, deletedSubjectRowFor } from "./deleted-credentials";
import { heldDeletionSubject, holdDeletionSubject, releaseDeletionSubject } from "./crypto/deletion-subject";
import { deletionHmac, deletionHmacCandidates } from "./deletion-hmac";
import { queueMail } from "./mail-jobs";
import { resolveRecipient } from "./mail-recipient";
import { recordIssue } from "./ops-issues";
import { isBeingDeleted } from "./tombstones";
import { isLegacySubject, openUserFields, subjectLookup, subjectOf } from "./users";

export { isBeingDeleted };
import { deleteObjects, shredUserKey, userPrefixes } from "./storage";

export type ReceiptKind = (typeof deletionReceipts.$inferSelect)["kind"];

export interface DeletionReceipt {
  id: string;
  kind: ReceiptKind;
  /** HMAC-SHA256 hex of `receipt|<kind>|<id>` under a service secret: lets the service match the id, reveals nothing else. */
  subjectHash: string;
  counts: Record<string, number>;
  /** ISO 8601. */
  deletedAt: string;
}

/** The receipt's subject hash, under the current master key. */
export function subjectHash(s: Pick<Services, "config">, kind: ReceiptKind, id: string): Promise<string> {
  return deletionHmac(s.config, "receipt", `${kind}|${id}`);
}

function toReceipt(row: typeof deletionReceipts.$inferSelect): DeletionReceipt {
  let counts: Record<string, number>;
  try {
    counts = JSON.parse(row.counts) as Record<string, number>;
  } catch {
    counts = {};
  }
  return { id: row.id, kind: row.kind, subjectHash: row.subjectHash, counts, deletedAt: new Date(row.createdAt).toISOString() };
}

function receiptRow(kind: ReceiptKind, hash: string, counts: Record<string, number>, at: number) {
  return { id: newId("rcp"), subjectHash: hash, kind, counts: JSON.stringify(counts), createdAt: at };
}

async function storeReceipt(s: Services, kind: ReceiptKind, subjectId: string, counts: Record<string, number>): Promise<DeletionReceipt> {
  const row = receiptRow(kind, await subjectHash(s, kind, subjectId), counts, s.now());
  await s.db.insert(deletionReceipts).values(row);
  return toReceipt(row);
}

export interface Actor {
  userId: string;
  actor: AuditEvent["actor"];
  meta?: RequestMeta | undefined;
}

/**
 * Closes the deletion of one item the caller owned: stores its receipt and
 * audits `<kind>.deleted` with the receipt id and any `detail`.
 */
async function receiptWithAudit(
  s: Services,
  who: Actor,
  kind: "photo" | "generation" | "export",
  id: string,
  counts: Record<string, number>,
  detail: AuditDetail = {},
): Promise<DeletionReceipt> {
  const receipt = await storeReceipt(s, kind, id, counts);
  await appendAudit(
    s.db,
    { userId: who.userId, actor: who.actor, action: `${kind}.deleted`, target: { type: kind, id }, detail: { receipt: receipt.id, ...detail }, meta: who.meta },
    s.now(),
  );
  return receipt;
}

/**
 * Removes the user's exports that may contain an item created at
 * `itemCreatedAt`: every export not yet ready, and every ready one finished
 * after the item existed. A build still running finds its row gone and
 * throws its ZIP away (see export.ts).
 */
export async function deleteExportsContaining(s: Services, userId: string, itemCreatedAt: number): Promise<number> {
  const rows = await s.db
    .select({ id: exportsTable.id, objectId: exportsTable.objectId })
    .from(exportsTable)
    .where(
      and(
        eq(exportsTable.userId, userId),
        or(ne(exportsTable.status, "ready"), isNull(exportsTable.completedAt), sql`${exportsTable.completedAt} >= ${itemCreatedAt}`),
      ),
    )
    .all();
  if (rows.length === 0) return 0;
  const objectIds = rows.flatMap((r) => (r.objectId ? [r.objectId] : []));
  if (objectIds.length) await deleteObjects(s, userId, objectIds);
  await s.db.delete(exportsTable).where(
    and(
      eq(exportsTable.userId, userId),
      inArray(
        exportsTable.id,
        rows.map((r) => r.id),
      ),
    ),
  );
  return rows.length;
}

/** Deletes one parent photo; null if the caller owns no such photo. */
export async function deletePhoto(s: Services, who: Actor, photoId: string): Promise<DeletionReceipt | null> {
  const row = await s.db
    .select({ id: objects.id, createdAt: objects.createdAt })
    .from(objects)
    .where(and(eq(objects.id, photoId), eq(objects.userId, who.userId), eq(objects.kind, "photo")))
    .get();
  if (!row) return null;
  const exportsRemoved = await deleteExportsContaining(s, who.userId, row.createdAt);
  await deleteObjects(s, who.userId, [row.id]);
  // Generations keep no dangling reference to a photo that no longer exists.
  await s.db.batch([
    s.db.update(generations).set({ motherPhotoId: null }).where(and(eq(generations.userId, who.userId), eq(generations.motherPhotoId, row.id))),
    s.db.update(generations).set({ fatherPhotoId: null }).where(and(eq(generations.userId, who.userId), eq(generations.fatherPhotoId, row.id))),
  ]);
  return receiptWithAudit(s, who, "photo", row.id, { photos: 1, exports: exportsRemoved });
}

/**
 * Deletes one generation and its generated images; null if the caller owns
 * no such generation. One still queued or running is first canceled through
 * the pipeline (refund and parent-photo retention in one step, unique per
 * generation so a racing failure cannot refund twice) and the model provider
 * is asked to drop it. Parent photos follow their own retention rule and stay
 * listed under /v1/photos until then.
 */
export async function deleteGeneration(s: Services, who: Actor, generationId: string): Promise<DeletionReceipt | null> {
  const gen = await s.db
    .select({ id: generations.id, status: generations.status, createdAt: generations.createdAt, providerRequestId: generations.providerRequestId })
    .from(generations)
    .where(and(eq(generations.id, generationId), eq(generations.userId, who.userId)))
    .get();
  if (!gen) return null;
  let refunded = false;
  if (gen.status === "queued" || gen.status === "submitted") {
    refunded = (await endGeneration(s, gen.id, "canceled", null, who.actor)) !== null;
    if (gen.providerRequestId) {
      const { provider } = s.pipeline;
      await provider.cancel(gen.providerRequestId).catch(() => undefined);
      await deleteProviderPayloads(s, provider, gen.providerRequestId);
    }
  }
  const outputs = await s.db
    .select({ id: objects.id })
    .from(objects)
    .where(and(eq(objects.userId, who.userId), eq(objects.generationId, gen.id), ne(objects.kind, "photo")))
    .all();
  const exportsRemoved = await deleteExportsContaining(s, who.userId, gen.createdAt);
  if (outputs.length) {
    await deleteObjects(
      s,
      who.userId,
      outputs.map((o) => o.id),
    );
  }
  await s.db.delete(generations).where(and(eq(generations.id, gen.id), eq(generations.userId, who.userId)));
  return receiptWithAudit(s, who, "generation", gen.id, { generations: 1, outputs: outputs.length, exports: exportsRemoved }, { outputs: outputs.length, refunded });
}

/** Deletes one export and its ZIP; null if the caller owns no such export. */
export async function deleteExport(s: Services, who: Actor, exportId: string): Promise<DeletionReceipt | null> {
  const row = await s.db
    .select({ id: exportsTable.id, objectId: exportsTable.objectId })
    .from(exportsTable)
    .where(and(eq(exportsTable.id, exportId), eq(exportsTable.userId, who.userId)))
    .get();
  if (!row) return null;
  if (row.objectId) await deleteObjects(s, who.userId, [row.objectId]);
  await s.db.delete(exportsTable).where(and(eq(exportsTable.id, row.id), eq(exportsTable.userId, who.userId)));
  return receiptWithAudit(s, who, "export", row.id, { exports: 1 });
}

// ------------------------------------------------------------------ account

/** Stages in order; the tombstone records the last one completed. */
export const ACCOUNT_STAGES = ["started", "key_shredded", "api_keys_revoked", "mailed", "objects_deleted", "rows_deleted", "identity_deleted"] as const;
export type AccountStage = (typeof ACCOUNT_STAGES)[number];

export interface AccountDeletionOptions {
  /** Where the request came from, for the logs (never stored with the receipt). */
  source: "user" | "clerk_webhook" | "sweep" | "queue";
  /** Fault injection for tests: called after each stage completes; a throw interrupts the deletion there. */
  afterStage?: (stage: AccountStage) => void | Promise<void>;
  /** After an interruption, enqueue an account.delete job to retry soon (default true); the sweep is the backstop. */
  retryViaQueue?: boolean;
  /** R2 objects deleted per run at most (default ACCOUNT_DELETE_BATCH); tests and the bench set it. */
  objectBatch?: number;
}

/**
 * `finalCheckpoint`: BabyPic's signature over the head of the account's
 * activity log, made when the deletion started (after its `account.deleted`
 * entry) and handed to whoever started it; null on later calls (the log is
 * gone or going).
 */
export type AccountDeletionResult = { status: "deleted" | "pending"; receipt: DeletionReceipt; finalCheckpoint?: Checkpoint | null };

/** Tables with a per-user column, for counting and deletion. `users` goes last. */
const USER_TABLES = [
  { name: "auditEntries", table: auditLog, col: auditLog.userId },
  { name: "securityEvents", table: securityLog, col: securityLog.userId },
  { name: "objects", table: objects, col: objects.userId },
  { name: "generations", table: generations, col: generations.userId },
  { name: "ledgerEntries", table: ledger, col: ledger.userId },
  { name: "payments", table: payments, col: payments.userId },
  { name: "apiKeys", table: apiKeys, col: apiKeys.userId },
  { name: "exports", table: exportsTable, col: exportsTable.userId },
] as const;

async function accountCounts(s: Services, userId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = { accounts: 1 };
  for (const t of USER_TABLES) {
    const row = await s.db.select({ n: count() }).from(t.table).where(eq(t.col, userId)).get();
    counts[t.name] = row?.n ?? 0;
  }
  const kinds = await s.db.select({ kind: objects.kind, n: count() }).from(objects).where(eq(objects.userId, userId)).groupBy(objects.kind).all();
  const byKind = { photo: "photos", output: "outputs", export: "exportFiles" } as const;
  for (const k of kinds) counts[byKind[k.kind]] = k.n;
  return counts;
}

/**
 * Deletes an account: writes the tombstone and the receipt (counts of what is
 * about to go) in one batch, then runs the stages. If writing the tombstone
 * fails this throws and nothing was deleted. If a later stage fails the
 * tombstone stays, the result says `pending`, and an account.delete job (then
 * the sweep) finishes it. Calling it again for an account already being
 * deleted resumes it. null: no such account.
 */
export async function deleteAccount(s: Services, userId: string, opts: AccountDeletionOptions): Promise<AccountDeletionResult | null> {
  // Verified tokens of this account cached in this isolate go now; the lookup refuses them anywhere else (docs/decisions/0026).
  forgetSessionsOf(userId);
  const user = await s.db.select({ id: users.id, externalId: users.externalId, subject: users.subject }).from(users).where(eq(users.id, userId)).get();
  const tomb = await s.db.select().from(tombstones).where(eq(tombstones.userId, userId)).get();
  if (!user && !tomb) return null;
  let finalCheckpoint: Checkpoint | null = null;
  if (!tomb && user) {
    // The last entry and a checkpoint over it, while the log still exists: the
    // person deleting keeps proof of what the log held (docs/audit-log.md).
    await appendAudit(
      s.db,
      {
        userId,
        actor: opts.source === "user" ? { type: "user", id: userId } : { type: "system", id: `account-deletion:${opts.source}` },
        action: "account.deleted",
        target: { type: "account", id: userId },
      },
      s.now(),
    );
    finalCheckpoint = await makeCheckpoint(s, userId, "deletion");
    const hash = await subjectHash(s, "account", userId);
    // The subject is sealed under the DEK the first stage shreds, yet the last stage names it to the identity
    // provider: it is held in the key bucket meanwhile, never in D1, whose Time Travel would keep it (decision 0022).
    const subject = await subjectOf(s, user);
    if (subject) await holdDeletionSubject(s, userId, subject);
    const lookup = isLegacySubject(user.externalId) ? await subjectLookup(s.config, user.externalId) : user.externalId;
    const deletedLookup = subject ? await deletedSubjectLookup(s, subject) : null;
    const now = s.now();
    const receipt = receiptRow("account", hash, await accountCounts(s, userId), now);
    await s.db.batch([
      s.db
        .insert(tombstones)
        .values({ userId, externalId: lookup, deletedLookup, stage: "started", attempts: 0, createdAt: now, updatedAt: now })
        .onConflictDoNothing(),
      s.db.insert(deletionReceipts).values(receipt),
    ]);
    // Before anything is deleted: each delivery carries its endpoint's URL and sealed secrets, since the endpoint goes with the account.
    await emitEvent(s, userId, "account.deleted", { status: "deleted", receiptId: receipt.id }, { capture: true });
  }
  try {
    if (!tomb) await opts.afterStage?.("started");
    const done = await resumeAccountDeletion(s, userId, opts);
    return done ? { ...done, finalCheckpoint } : done;
  } catch (err) {
    logger.error("account.delete_interrupted", { source: opts.source, error: errorText(err) });
    const receipt = await accountReceipt(s, userId);
    if (!receipt) throw err;
    if (opts.retryViaQueue !== false) {
      await s.env.JOBS.send({ kind: "account.delete", userId }).catch(() => undefined);
    }
    return { status: "pending", receipt, finalCheckpoint };
  }
}

async function accountReceipt(s: Services, userId: string): Promise<DeletionReceipt | null> {
  const row = await s.db
    .select()
    .from(deletionReceipts)
    .where(and(eq(deletionReceipts.kind, "account"), inArray(deletionReceipts.subjectHash, await deletionHmacCandidates(s.config, "receipt", `account|${userId}`))))
    .orderBy(asc(deletionReceipts.createdAt))
    .get();
  return row ? toReceipt(row) : null;
}

/** Runs every stage after the recorded one; each is safe to repeat. */
export async function resumeAccountDeletion(s: Services, userId: string, opts: AccountDeletionOptions): Promise<AccountDeletionResult | null> {
  const tomb = await s.db.select().from(tombstones).where(eq(tombstones.userId, userId)).get();
  const receipt = await accountReceipt(s, userId);
  if (!tomb) return receipt ? { status: "deleted", receipt } : null;
  if (!receipt) throw new Error("account deletion without a receipt");
  await s.db
    .update(tombstones)
    .set({ attempts: tomb.attempts + 1, updatedAt: s.now() })
    .where(eq(tombstones.userId, userId));

  const done = ACCOUNT_STAGES.indexOf(tomb.stage as AccountStage);
  // The address is sealed under the DEK the first stage shreds, so it is read now (a run resumed after the shred has none to mail).
  const mailTo = done < ACCOUNT_STAGES.indexOf("mailed") ? await emailOf(s, userId) : null;
  // The subject, for the identity provider: held in the key bucket (a tombstone from before decision 0022 holds it plainly).
  const subject = done < ACCOUNT_STAGES.indexOf("identity_deleted") ? (isLegacySubject(tomb.externalId) ? tomb.externalId : await heldDeletionSubject(s, userId)) : null;
  const steps: [AccountStage, () => Promise<unknown>][] = [
    ["key_shredded", () => shredUserKey(s, userId)],
    ["api_keys_revoked", async () => {
      await revokeApiKeys(s, userId);
      await stopProviderJobs(s, userId);
    }],
    ["mailed", () => sendConfirmation(s, userId, mailTo, subject, receipt)],
    ["objects_deleted", () => deleteUserR2(s, userId, opts.objectBatch)],
    ["rows_deleted", () => deleteUserRows(s, userId, mailTo)],
    ["identity_deleted", () => deleteIdentity(s, subject)],
  ];
  for (const [stage, run] of steps) {
    if (ACCOUNT_STAGES.indexOf(stage) <= done) continue;
    if ((await run()) === "more") {
      // A bounded batch is done and more is left: the next account.delete job (or the sweep) carries on from here.
      await s.env.JOBS.send({ kind: "account.delete", userId });
      return { status: "pending", receipt };
    }
    await s.db.update(tombstones).set({ stage, updatedAt: s.now() }).where(eq(tombstones.userId, userId));
    await opts.afterStage?.(stage);
  }
  // The subject is remembered (as a keyed hash) in the same batch that drops
  // the tombstone, so no moment exists where an old session could recreate the account.
  const deletedLookup = tomb.deletedLookup ?? (isLegacySubject(tomb.externalId) ? await deletedSubjectLookup(s, tomb.externalId) : null);
  // The held subject goes before the tombstone: a run resumed in between needs only the lookup, already on the tombstone.
  await releaseDeletionSubject(s, userId);
  const drop = s.db.delete(tombstones).where(eq(tombstones.userId, userId));
  if (deletedLookup) {
    const remembered = deletedSubjectRowFor(deletedLookup, s.now());
    await s.db.batch([
      s.db.insert(deletedCredentials).values(remembered).onConflictDoUpdate({ target: deletedCredentials.lookup, set: { deletedAt: remembered.deletedAt, expiresAt: remembered.expiresAt } }),
      drop,
    ]);
  } else {
    logger.error("account.subject_unknown", { receipt: receipt.id });
    await drop;
  }
  logger.info("account.deleted", { receipt: receipt.id, source: opts.source });
  return { status: "deleted", receipt };
}

/**
 * Jobs still at the model provider are canceled and their payloads deletion
 * requested, like deleting one generation does; otherwise the provider would
 * keep working on (and holding) photos of an account that no longer exists.
 * Best effort per job: the DEK is already shredded and the rows go next.
 */
async function stopProviderJobs(s: Services, userId: string): Promise<void> {
  const running = await s.db
    .select({ requestId: generations.providerRequestId })
    .from(generations)
    .where(and(eq(generations.userId, userId), inArray(generations.status, ["queued", "submitted"])))
    .all();
  const { provider } = s.pipeline;
  for (const { requestId } of running) {
    if (!requestId) continue;
    await provider.cancel(requestId).catch(() => undefined);
    await deleteProviderPayloads(s, provider, requestId);
  }
}

async function revokeApiKeys(s: Services, userId: string): Promise<void> {
  await s.db
    .update(apiKeys)
    .set({ revokedAt: s.now() })
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)));
}

/** The account's address, opened with its DEK (either encoding); null without one. */
async function emailOf(s: Services, userId: string): Promise<string | null> {
  const row = await s.db.select({ id: users.id, email: users.email, consentVersion: users.consentVersion }).from(users).where(eq(users.id, userId)).get();
  return row ? (await openUserFields(s, row)).email : null;
}

/**
 * The confirmation mail's address is looked up now, while the identity still
 * exists at Clerk (services/mail-recipient.ts), and travels only inside the
 * queued mail (services/mail-jobs.ts), which retries and reports failures.
 * The mail carries the receipt id and nothing else of the account. No
 * address at all is recorded for the operator, not skipped silently. A Clerk
 * outage throws, so this stage is retried before the identity is deleted.
 */
async function sendConfirmation(s: Services, userId: string, knownAddress: string | null, subject: string | null, receipt: DeletionReceipt): Promise<void> {
  // The stored address is sealed under the DEK the first stage shreds: it was read before that.
  const found = await resolveRecipient(s, userId, knownAddress, subject);
  if (!found.ok) {
    await recordIssue(s, { kind: "mail.send", ref: `account_deleted/${receipt.id}`, status: "failed", attempts: 1, error: "no email address known for the account" });
    return;
  }
  await queueMail(s, { template: "account_deleted", ref: receipt.id, to: found.address });
}

/** R2 objects one account.delete job deletes at most; a larger account goes on in further jobs. */
export const ACCOUNT_DELETE_BATCH = 2000;

/**
 * Deletes the user's R2 objects under their prefixes, at most `batch` of them
 * (in calls of 1000 keys, R2's limit), so one job's work is bounded whatever
 * the account's size. "more": some are left for the next job.
 */
async function deleteUserR2(s: Services, userId: string, batch = ACCOUNT_DELETE_BATCH): Promise<"more" | "done"> {
  let deleted = 0;
  for (const prefix of userPrefixes(userId)) {
    for (;;) {
      if (deleted >= batch) return "more";
      const page = await s.env.BUCKET.list({ prefix, limit: Math.min(1000, batch - deleted) });
      if (page.objects.length === 0) break;
      await s.env.BUCKET.delete(page.objects.map((o) => o.key));
      deleted += page.objects.length;
      if (!page.truncated) break;
    }
  }
  return "done";
}

/**
 * Every row naming the user goes in one batch: their own rows, the outbox
 * mail addressed to them (the confirmation included: the outbox is only the
 * development stand-in for a mail provider), and security-log rows written by
 * others that name one of their ids. Their API keys are remembered as keyed
 * hashes first, so a key used later is answered `account_deleted`.
 */
async function deleteUserRows(s: Services, userId: string, email: string | null): Promise<void> {
  const now = s.now();
  const keyRows = await deletedApiKeyRows(s, userId, now);
  const ownIds = [
    ...(await s.db.select({ id: objects.id }).from(objects).where(eq(objects.userId, userId)).all()),
    ...(await s.db.select({ id: generations.id }).from(generations).where(eq(generations.userId, userId)).all()),
    ...(await s.db.select({ id: exportsTable.id }).from(exportsTable).where(eq(exportsTable.userId, userId)).all()),
    ...(await s.db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.userId, userId)).all()),
    ...(await s.db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId)).all()),
  ].map((r) => r.id);
  const mentions = [userId, ...ownIds].map((id) => like(securityLog.detail, `%${id}%`));
  await s.db.batch([
    s.db.delete(auditLog).where(eq(auditLog.userId, userId)),
    s.db.delete(auditPending).where(eq(auditPending.userId, userId)),
    s.db.delete(auditCheckpoints).where(eq(auditCheckpoints.userId, userId)),
    s.db.delete(securityLog).where(eq(securityLog.userId, userId)),
    s.db.delete(objects).where(eq(objects.userId, userId)),
    s.db.delete(generations).where(eq(generations.userId, userId)),
    s.db.delete(ledger).where(eq(ledger.userId, userId)),
    s.db.delete(payments).where(eq(payments.userId, userId)),
    s.db.delete(apiKeys).where(eq(apiKeys.userId, userId)),
    s.db.delete(exportsTable).where(eq(exportsTable.userId, userId)),
    s.db.delete(notices).where(eq(notices.userId, userId)),
    s.db.delete(supportSessions).where(eq(supportSessions.userId, userId)),
    s.db.delete(supportImageRequests).where(eq(supportImageRequests.userId, userId)),
    s.db.delete(webhookDeliveries).where(eq(webhookDeliveries.userId, userId)),
    s.db.delete(webhookEndpoints).where(eq(webhookEndpoints.userId, userId)),
    s.db.delete(users).where(eq(users.id, userId)),
    ...(keyRows.length ? [s.db.insert(deletedCredentials).values(keyRows).onConflictDoNothing()] : []),
    ...(email ? [s.db.delete(outbox).where(eq(outbox.recipient, email))] : []),
    ...chunks(mentions, 50).map((part) => s.db.delete(securityLog).where(or(...part))),
  ]);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Asks Clerk's Backend API to delete the identity when a secret key is
 * configured. 404 means it is already gone (e.g. this run started from
 * Clerk's own user.deleted webhook), which is the goal.
 */
async function deleteIdentity(s: Services, externalId: string | null): Promise<void> {
  const secretKey = s.config.CLERK_SECRET_KEY;
  if (!secretKey) return;
  if (externalId === null) {
    // No subject was readable when the deletion started (no DEK): nothing to name to Clerk.
    logger.error("account.identity_unknown");
    return;
  }
  try {
    await createClerkClient({ secretKey }).users.deleteUser(externalId);
  } catch (err) {
    if (isClerkAPIResponseError(err) && err.status === 404) return;
    throw err;
  }
}

/** How long a tombstone must sit untouched before the sweep takes it over. */
export const TOMBSTONE_GRACE_MS = 60_000;

/** Cron sweep: finishes account deletions that were interrupted. */
export async function sweepTombstones(s: Services): Promise<number> {
  const stale = await s.db
    .select({ userId: tombstones.userId })
    .from(tombstones)
    .where(lte(tombstones.updatedAt, s.now() - TOMBSTONE_GRACE_MS))
    .limit(20)
    .all();
  let finished = 0;
  for (const t of stale) {
    try {
      const res = await resumeAccountDeletion(s, t.userId, { source: "sweep" });
      if (res?.status === "deleted") finished++;
    } catch (err) {
      logger.error("account.delete_retry_failed", { error: errorText(err) });
    }
  }
  return finished;
}
