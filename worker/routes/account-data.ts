/**
 * The user's data rights over the whole account: exports (GDPR Art. 15/20)
 * under `/v1/account/exports` and account deletion (Art. 17) at
 * `DELETE /v1/account`. Browser sessions only: an integrator's API key can
 * neither take everything out in one go nor delete the account.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { exportsTable } from "../db/schema";
import { AppError } from "../errors";
import { decodeKeysetCursor, keysetPage, keysetQuery } from "../lib/cursor";
import { requestMeta } from "../lib/request-meta";
import { deleteOwned } from "../lib/owned";
import type { Checkpoint } from "../lib/audit-verify";
import { CheckpointSchema } from "./audit-checkpoints";
import { createRouter } from "../lib/router";
import { authenticated, requireStepUpFor } from "../middleware/auth";
import { authErrors, badRequest, notFound, PageQuery, problem, stepUpErrors } from "../schemas/common";
import { ReceiptSchema, serializeReceipt } from "../schemas/deletion";
import { auditActor } from "../services/audit";
import { deleteAccount, deleteExport } from "../services/deletion";
import { requestExport, type ExportRow } from "../services/export";
import { notFoundFor } from "../services/security-log";
import { issueSignedUrl } from "../services/signed-links";
import { iso } from "../lib/iso";

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

export const accountDataRoutes = createRouter();

accountDataRoutes.openapi(
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
    responses: {
      202: { description: "Queued (or already running)", content: { "application/json": { schema: ExportSchema } } },
      ...authErrors,
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    const { row } = await requestExport(c.get("services"), {
      userId: auth.userId,
      actor: auditActor(auth),
      meta: requestMeta(c.req.raw, c.get("requestId")),
    });
    c.header("location", `/v1/account/exports/${row.id}`);
    return c.json(serializeExport(row, null), 202);
  },
);

accountDataRoutes.openapi(
  createRoute({
    method: "get",
    path: "/account/exports",
    operationId: "getAccountExports",
    tags: ["account"],
    summary: "Your exports, newest first",
    ...authenticated({ session: true, limit: null }),
    request: { query: PageQuery },
    responses: {
      200: { description: "A page of exports (without download links; get one export for its link)", content: { "application/json": { schema: ExportPage } } },
      ...badRequest,
      ...authErrors,
    },
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

accountDataRoutes.openapi(
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
    responses: {
      200: { description: "The export", content: { "application/json": { schema: ExportSchema } } },
      ...notFound,
      ...authErrors,
      ...stepUpErrors,
    },
  }),
  async (c) => {
    const s = c.get("services");
    const auth = c.get("auth");
    const { id } = c.req.valid("param");
    const meta = requestMeta(c.req.raw, c.get("requestId"));
    const row = await s.db
      .select()
      .from(exportsTable)
      .where(and(eq(exportsTable.id, id), eq(exportsTable.userId, auth.userId)))
      .get();
    if (!row || row.expiresAt <= s.now()) throw await notFoundFor(s, { table: "exports", id, userId: auth.userId, meta, path: c.req.path });
    // Taking everything out in one file is as sensitive as deleting it.
    if (row.status === "ready" && row.objectId) requireStepUpFor(c);
    const download = row.status === "ready" && row.objectId ? await issueSignedUrl(s, { auth, objectId: row.objectId, disposition: "attachment", meta }) : null;
    return c.json(serializeExport(row, download), 200);
  },
);

accountDataRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/account/exports/{id}",
    operationId: "deleteAccountExportsById",
    tags: ["account"],
    summary: "Delete an export now (it would expire within the hour anyway)",
    ...authenticated({ session: true, limit: null }),
    request: { params: ExportId },
    responses: {
      200: { description: "Deleted; the receipt", content: { "application/json": { schema: ReceiptSchema } } },
      ...notFound,
      ...authErrors,
    },
  }),
  async (c) => c.json(await deleteOwned(c, "exports", c.req.valid("param").id, deleteExport), 200),
);

accountDataRoutes.openapi(
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
    request: { body: { content: { "application/json": { schema: DeleteAccountBody } }, required: true } },
    responses: {
      200: { description: "Deleted, or deletion under way (`pending`)", content: { "application/json": { schema: AccountDeleted } } },
      ...badRequest,
      ...authErrors,
      ...stepUpErrors,
      500: problem("The deletion could not start (`internal`); nothing was deleted, try again."),
    },
  }),
  async (c) => {
    const s = c.get("services");
    const auth = c.get("auth");
    c.req.valid("json");
    const result = await deleteAccount(s, auth.userId, { source: "user" });
    if (!result) throw new AppError("not_found");
    return c.json({ status: result.status, receipt: serializeReceipt(result.receipt), finalCheckpoint: withoutUserId(result.finalCheckpoint ?? null) }, 200);
  },
);
