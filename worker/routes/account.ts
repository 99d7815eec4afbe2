/**
 * Every `/v1/account/...` operation: the user's own account data. The
 * activity log (`/account/audit`) and its signed checkpoints
 * (`/account/audit/checkpoints`, docs/audit-log.md); the data rights over the
 * whole account, exports (GDPR Art. 15/20) under `/account/exports` and
 * account deletion (Art. 17) at `DELETE /account`, which are browser sessions
 * only: an integrator's API key can neither take everything out in one go nor
 * delete the account.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { base64UrlDecode, base64UrlEncode, utf8 } from "../lib/bytes";
import { createRouter } from "../lib/router";
import { authenticated, requireStepUpFor } from "../middleware/auth";
import { authErrors, inputErrors, jsonBody, jsonResponse, notFound, PageQuery, problem, stepUpErrors } from "../schemas/common";
import { userDataKey } from "../services/crypto/keys";
import { auditActor, type AuditRow, openAuditRows, type OpenedAuditRow, pageAudit, recordAudit, sealAudit } from "../services/audit";
import { and, eq } from "drizzle-orm";
import { exportsTable } from "../db/schema";
import { decodeKeysetCursor, keysetPage, keysetQuery } from "../lib/cursor";
import { deleteOwned, ownerContext } from "../lib/owned";
import type { Checkpoint } from "../lib/audit-verify";
import { CheckpointSchema } from "./audit";
import { ReceiptSchema, serializeReceipt } from "../schemas/deletion";
import { deleteAccount, deleteExport } from "../services/deletion";
import { type ExportRow, requestExport } from "../services/export";
import { issueSignedUrl } from "../services/signed-links";
import { iso } from "../lib/iso";
import { pageCheckpoints, toCheckpoint } from "../services/audit-checkpoints";

export const accountRoutes = createRouter();

const ActorSchema = z
  .object({
    type: z.enum(["user", "api_key", "system", "support"]),
    id: z.string().nullable().openapi({ description: "User id, API key id, or support staff user id; null for system and link holders." }),
    reason: z.string().nullable().openapi({ description: "For support access: the reason the staff member stated." }),
  })
  .openapi("AuditActor");

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    seq: z.number().int().openapi({ description: "Position in this user's hash chain, from 1." }),
    at: z.string().openapi({ example: "2026-11-27T06:00:00.000Z" }),
    actor: ActorSchema,
    action: z.string().openapi({ example: "link.used" }),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    requestId: z.string().nullable(),
    ipPrefix: z.string().nullable().openapi({ description: "Client IP truncated to /24 (IPv4) or /48 (IPv6).", example: "203.0.113.0/24" }),
    userAgent: z.string().nullable(),
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
    summary: z.string().openapi({ example: "Support viewed your account summary because: ticket 4411, login trouble" }),
    stored: z
      .object({
        ipPrefix: z.string().nullable(),
        userAgent: z.string().nullable(),
        detail: z.string().nullable(),
      })
      .openapi("AuditStoredFields", {
        description:
          "ipPrefix, userAgent and detail exactly as stored: sealed under your data key (`bpf1.…`, docs/storage-format.md §6) or, for entries written before sealing, plain text. " +
          "`hash` covers these stored forms, not the readable values above; the readable values are their decryption (AES-GCM bound to this entry and column). See docs/audit-log.md.",
      }),
    prevHash: z.string(),
    hash: z.string().openapi({ description: "SHA-256 over this entry and prevHash; see docs/audit-log.md." }),
  })
  .openapi("AuditEntry");

const AuditPageSchema = z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }).openapi("AuditPage");

const CURSOR_PREFIX = "audit:";

export function encodeAuditCursor(seq: number): string {
  return base64UrlEncode(utf8(`${CURSOR_PREFIX}${seq}`));
}

function decodeAuditCursor(cursor: string): number {
  let text: string;
  try {
    text = new TextDecoder().decode(base64UrlDecode(cursor));
  } catch {
    text = "";
  }
  const m = /^audit:(\d{1,12})$/.exec(text);
  const seq = m?.[1] ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new AppError("validation_failed", "The query has invalid fields.", { errors: [{ field: "cursor", message: "not a cursor from nextCursor" }] });
  }
  return seq;
}

const DetailSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

function parseDetail(raw: string | null): z.infer<typeof DetailSchema> | null {
  if (raw === null) return null;
  try {
    const parsed = DetailSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const WHAT: Record<string, string> = {
  "account.created": "created your account",
  "account.viewed": "viewed your account",
  "account.deleted": "deleted your account",
  "consent.given": "gave consent",
  "consent.withdrawn": "withdrew consent",
  "settings.changed": "changed your settings",
  "photo.uploaded": "uploaded a photo",
  "photo.listed": "listed your photos",
  "photo.viewed": "viewed a photo",
  "photo.deleted": "deleted a photo",
  "generation.created": "started a generation",
  "generation.listed": "listed your generations",
  "generation.viewed": "viewed a generation",
  "generation.completed": "completed a generation",
  "generation.failed": "recorded a failed generation",
  "generation.deleted": "deleted a generation",
  "link.issued": "issued a private link to an image",
  "link.used": "opened a private link to an image",
  "file.downloaded": "downloaded a file",
  "export.requested": "requested a data export",
  "export.ready": "finished your data export",
  "export.downloaded": "downloaded your data export",
  "export.deleted": "deleted a data export",
  "audit.viewed": "viewed your activity log",
  "api_key.created": "created an API key",
  "api_key.revoked": "revoked an API key",
  "api_key.used": "used an API key",
  "billing.checkout": "started a checkout",
  "billing.credited": "added credits",
  "billing.reversed": "reversed a payment",
  "support.grant_changed": "changed support access",
  "retention.deleted": "deleted data under the retention policy",
  "data.read": "read your data",
  "operator.action": "acted on your account",
  "notice.sent": "sent you a notice",
};

/** One readable line per entry, so every client shows support access the same way. */
export function describeAuditEntry(row: AuditRow, detail: Record<string, unknown> | null): string {
  const reason = typeof detail?.["reason"] === "string" ? detail["reason"] : null;
  if (row.action === "support.grant_changed") {
    const until = typeof detail?.["until"] === "string" ? detail["until"] : null;
    // Support sessions (decision 0019): one generation's pictures, or a session the user ended.
    const item = typeof detail?.["item"] === "string" ? detail["item"] : null;
    if (item) return until ? `You let support see the pictures of generation ${item} until ${until}` : `You refused support access to the pictures of generation ${item}`;
    if (typeof detail?.["session"] === "string") return `You ended the support session (ticket ${String(detail["ticket"] ?? "")})`;
    const withdrawn = typeof detail?.["withdrawn"] === "number" && detail["withdrawn"] > 0 ? `; ${detail["withdrawn"]} picture request(s) the earlier window allowed are withdrawn` : "";
    return until ? `You let support see your photos and results until ${until}${withdrawn}` : `You revoked support access to your photos and results${withdrawn}`;
  }
  if (row.action === "support.accessed") {
    const viewed = typeof detail?.["viewed"] === "string" ? detail["viewed"] : "your account";
    const refused = detail?.["allowed"] === false ? " (refused: you had not granted access)" : "";
    return `Support viewed ${viewed}${refused} because: ${reason ?? "no reason recorded"}`;
  }
  if (row.action === "data.read" && reason) return `BabyPic: ${reason}`;
  if (row.action === "api_key.used") return `Your API key ${row.actorId ?? ""} called ${row.targetId ?? "the API"}`;
  const who =
    row.actorType === "support"
      ? "Support"
      : row.actorType === "system"
        ? "BabyPic"
        : row.actorType === "api_key"
          ? `Your API key ${row.actorId ?? ""}`
          : row.actorId === null
            ? "Someone with a private link"
            : "You";
  const what = WHAT[row.action] ?? row.action;
  return reason && row.actorType === "support" ? `${who} ${what} because: ${reason}` : `${who} ${what}`;
}

export function presentAuditRow(row: OpenedAuditRow): z.infer<typeof AuditEntrySchema> {
  const detail = parseDetail(row.detail);
  return {
    id: row.id,
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    actor: {
      type: row.actorType,
      id: row.actorId,
      reason: row.actorType === "support" && typeof detail?.["reason"] === "string" ? detail["reason"] : null,
    },
    action: row.action,
    target: row.targetType !== null && row.targetId !== null ? { type: row.targetType, id: row.targetId } : null,
    requestId: row.requestId,
    ipPrefix: row.ipPrefix,
    userAgent: row.userAgent,
    detail,
    summary: describeAuditEntry(row, detail),
    stored: row.stored,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/account/audit",
    operationId: "getAccountAudit",
    tags: ["account"],
    summary: "Your activity log: every access to your data, newest first",
    description:
      "Entries are hash-chained per user (each holds the hash of the previous), so editing or removing one is detectable. " +
      "Reading the log is itself recorded (`audit.viewed`).",
    ...authenticated({ scope: "account:read", limit: "read" }),
    request: { query: PageQuery },
    responses: { 200: jsonResponse("A page of entries", AuditPageSchema), ...inputErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const { limit, cursor } = c.req.valid("query");
    const before = cursor === undefined ? undefined : decodeAuditCursor(cursor);
    // Everything recorded so far is chained first, so the page misses nothing
    // (docs/decisions/0018); the user's data key (to open the entries) loads from R2 meanwhile.
    const [, rows] = await Promise.all([
      userDataKey(s, auth.userId, { create: false }),
      sealAudit(s.db, auth.userId).then(() => pageAudit(s.db, auth.userId, limit + 1, before)),
    ]);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeAuditCursor(last.seq) : null;
    await recordAudit(
      s,
      [
        {
          userId: auth.userId,
          actor: auditActor(auth),
          action: "audit.viewed",
          target: { type: "audit_log", id: auth.userId },
          detail: { count: page.length },
          meta,
        },
      ],
      s.now(),
    );
    return c.json({ items: (await openAuditRows(s, page)).map(presentAuditRow), nextCursor }, 200);
  },
);

const ExportSchema = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "building", "ready", "failed"]),
    progress: z.number().int().min(0).max(100),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    expiresAt: z.string().openapi({ description: "The export and its ZIP are deleted at this time: 1 hour after it is ready (until then, 1 hour after it was requested)." }),
    error: z.string().nullable(),
    download: z
      .object({ url: z.string(), expiresAt: z.string() })
      .nullable()
      .openapi({ description: "A signed link to the ZIP (attachment), when ready. Valid for at most 1 hour." }),
  })
  .openapi("Export");

const ExportPage = z.object({ items: z.array(ExportSchema), nextCursor: z.string().nullable() }).openapi("ExportPage");

const ExportId = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "exp_4f1c2a9e0b7d4c3a8e6f5d4c3b2a1908" }) });

const DeleteAccountBody = z
  .object({
    confirm: z.literal("DELETE").openapi({ description: 'Type "DELETE" to confirm. Deletion cannot be undone.' }),
  })
  .strict()
  .openapi("DeleteAccount");

const AccountDeleted = z
  .object({
    status: z.enum(["deleted", "pending"]).openapi({
      description: "`pending`: the key is destroyed or about to be and the rest is finished by the next sweep, within minutes.",
    }),
    receipt: ReceiptSchema,
    finalCheckpoint: CheckpointSchema.omit({ userId: true })
      .nullable()
      .openapi({
        description:
          "BabyPic's signature over your activity log's last entry (`account.deleted`), made as the deletion started. Keep it with the export " +
          "you took before deleting: it proves what the log held. The signed bytes include your user id, which is left out here so the answer " +
          "stays anonymous like the receipt; take it from your export's manifest.json to verify. null when this call resumed a deletion under way.",
      }),
  })
  .openapi("AccountDeleted");

function withoutUserId(c: Checkpoint | null): Omit<Checkpoint, "userId"> | null {
  if (!c) return null;
  const { userId: _id, ...rest } = c;
  void _id;
  return rest;
}

function serializeExport(row: ExportRow, download: { url: string; expiresAt: string } | null): z.infer<typeof ExportSchema> {
  return {
    id: row.id,
    status: row.status,
    progress: row.progress,
    createdAt: new Date(row.createdAt).toISOString(),
    completedAt: iso(row.completedAt),
    expiresAt: new Date(row.expiresAt).toISOString(),
    error: row.error,
    download,
  };
}


accountRoutes.openapi(
  createRoute({
    method: "post",
    path: "/account/exports",
    operationId: "postAccountExports",
    tags: ["account"],
    summary: "Export all your data as a ZIP (GDPR Art. 15/20)",
    description:
      "Queues a job that builds a ZIP of everything we hold about you: `manifest.json` (SHA-256 of every file), `account.json`, " +
      "`generations/<id>/` (metadata and decrypted images), `audit-log.json`, `payments.json`, `privacy.json`. Poll the export until " +
      "`ready`, then download it through `download.url`. One export runs at a time: asking again returns the running one.",
    ...authenticated({ session: true, limit: "write" }),
    responses: { 202: jsonResponse("Queued (or already running)", ExportSchema), ...authErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const { row } = await requestExport(s, {
      userId: auth.userId,
      actor: auditActor(auth),
      meta,
    });
    c.header("location", `/v1/account/exports/${row.id}`);
    return c.json(serializeExport(row, null), 202);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/account/exports",
    operationId: "getAccountExports",
    tags: ["account"],
    summary: "Your exports, newest first",
    ...authenticated({ session: true, limit: null }),
    request: { query: PageQuery },
    responses: { 200: jsonResponse("A page of exports (without download links; get one export for its link)", ExportPage), ...inputErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const { limit, cursor } = c.req.valid("query");
    const userId = c.get("auth").userId;
    const after = cursor ? decodeKeysetCursor(cursor, "exp") : null;
    const q = keysetQuery(eq(exportsTable.userId, userId), exportsTable.createdAt, exportsTable.id, after);
    const rows = await s.db.select().from(exportsTable).where(q.where).orderBy(...q.orderBy).limit(limit + 1).all();
    const { page, nextCursor } = keysetPage(rows, limit);
    return c.json({ items: page.map((r) => serializeExport(r, null)), nextCursor }, 200);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/account/exports/{id}",
    operationId: "getAccountExportsById",
    tags: ["account"],
    summary: "One export: progress, and a download link once ready",
    description:
      "When `ready`, each call issues a fresh signed link (recorded in your audit log as `link.issued`); that needs a sign-in check " +
      "within the last 10 minutes (`reverification_required` otherwise). Progress before then needs none.",
    ...authenticated({ session: true, limit: null }),
    request: { params: ExportId },
    responses: { 200: jsonResponse("The export", ExportSchema), ...notFound, ...authErrors, ...stepUpErrors },
  }),
  async (c) => {
    const { s, auth, meta, missing } = ownerContext(c);
    const { id } = c.req.valid("param");
    const row = await s.db
      .select()
      .from(exportsTable)
      .where(and(eq(exportsTable.id, id), eq(exportsTable.userId, auth.userId)))
      .get();
    if (!row || row.expiresAt <= s.now()) throw await missing("exports", id);
    // Taking everything out in one file is as sensitive as deleting it.
    if (row.status === "ready" && row.objectId) requireStepUpFor(c);
    const download = row.status === "ready" && row.objectId ? await issueSignedUrl(s, { auth, objectId: row.objectId, disposition: "attachment", meta }) : null;
    return c.json(serializeExport(row, download), 200);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/account/exports/{id}",
    operationId: "deleteAccountExportsById",
    tags: ["account"],
    summary: "Delete an export now (it would expire within the hour anyway)",
    ...authenticated({ session: true, limit: null }),
    request: { params: ExportId },
    responses: { 200: jsonResponse("Deleted; the receipt", ReceiptSchema), ...notFound, ...authErrors },
  }),
  async (c) => c.json(await deleteOwned(c, "exports", c.req.valid("param").id, deleteExport), 200),
);

accountRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/account",
    operationId: "deleteAccount",
    tags: ["account"],
    summary: "Delete your account and everything in it (GDPR Art. 17)",
    description:
      "Destroys your data key first (every copy of your photos and results becomes unreadable at once), revokes API keys, deletes every " +
      'file and record, asks Clerk to delete your sign-in identity, and emails a confirmation. Body: `{"confirm": "DELETE"}`. ' +
      "Only an anonymous receipt (counts and time) remains. Browser sessions only, with a sign-in check within the last 10 minutes. " +
      "Signing in again later starts a new, empty account.",
    ...authenticated({ session: true, stepUp: true, limit: "write" }),
    request: { body: jsonBody(DeleteAccountBody) },
    responses: {
      200: jsonResponse("Deleted, or deletion under way (`pending`)", AccountDeleted),
      ...inputErrors,
      ...stepUpErrors,
      500: problem("The deletion could not start (`internal`); nothing was deleted, try again."),
    },
  }),
  async (c) => {
    const { s, auth } = ownerContext(c);
    c.req.valid("json");
    const result = await deleteAccount(s, auth.userId, { source: "user" });
    if (!result) throw new AppError("not_found");
    return c.json({ status: result.status, receipt: serializeReceipt(result.receipt), finalCheckpoint: withoutUserId(result.finalCheckpoint ?? null) }, 200);
  },
);

const CheckpointPageSchema = z.object({ items: z.array(CheckpointSchema), nextCursor: z.string().nullable() }).openapi("AuditCheckpointPage");

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/account/audit/checkpoints",
    tags: ["account"],
    operationId: "listAuditCheckpoints",
    summary: "Signed checkpoints of your activity log, newest first",
    description:
      "BabyPic signs your log's newest entry hash at least daily while the log changes, on every export and on account deletion. " +
      "Keep copies: a checkpoint you hold exposes any later rewrite of the entries it covers, even by someone who can write BabyPic's database.",
    ...authenticated({ scope: "account:read", limit: "read" }),
    request: { query: PageQuery },
    responses: { 200: jsonResponse("A page of checkpoints", CheckpointPageSchema), ...inputErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const { limit, cursor } = c.req.valid("query");
    const after = cursor ? decodeKeysetCursor(cursor, "acp") : null;
    const { page, nextCursor } = await pageCheckpoints(s.db, c.get("auth").userId, limit, after);
    return c.json({ items: page.map(toCheckpoint), nextCursor }, 200);
  },
);
