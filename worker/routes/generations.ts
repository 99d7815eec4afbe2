/**
 * Every `/v1/generations/...` operation (docs/architecture.md): create with an
 * Idempotency-Key, watch progress, list, cancel, read the outputs, mint a
 * download link, delete. Every read is scoped to the caller in
 * the query itself; anyone else's id is the same 404 as a missing one.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { objects } from "../db/schema";
import { AppError } from "../errors";
import { deleteOwned, ownerContext } from "../lib/owned";
import { decodeKeysetCursor, keysetPage } from "../lib/cursor";
import { createRouter } from "../lib/router";
import { routeReads } from "../middleware/route-reads";
import { authenticated } from "../middleware/auth";
import { inputErrors, jsonBody, jsonResponse, notFound, ownedErrors, ownedResponses, PageQuery, problem } from "../schemas/common";
import { auditActor, recordAudit, type AuditEvent } from "../services/audit";
import { userDataKey } from "../services/crypto/keys";
import { requireConsent } from "../middleware/consent";
import {
  createGeneration,
  generationRowQuery,
  getGenerationRow,
  generationPageOutputsQuery,
  generationPageQuery,
  outputsOf,
  outputsQuery,
  parseOptions,
  progressOf,
  type GenerationRow,
  type ObjectRow,
} from "../services/generation";
import { cancelGeneration } from "../services/generation-pipeline";
import { deleteGeneration } from "../services/deletion";
import { ReceiptSchema } from "../schemas/deletion";
import { issueSignedUrl, signLinksFor, type SignedUrl } from "../services/signed-links";
import { getObject } from "../services/storage";
import type { GenerationOptions } from "../providers/types";
import { iso } from "../lib/iso";
import { idPattern } from "../lib/ids";
import { isLocalPreview, shownModel } from "../lib/local-preview";

const GenerationId = z
  .string()
  .regex(idPattern("gen"))
  .openapi({ param: { name: "id", in: "path" }, example: "gen_7c1e0d2b9a8f4e3d2c1b0a9f8e7d6c5b" });
/** A generation's row and outputs: read with the user lookup when the session is cached (docs/decisions/0028). */
const generationReads = routeReads(
  (s, userId, c) => {
    const id = GenerationId.safeParse(c.req.param("id"));
    return id.success ? ([generationRowQuery(s, userId, id.data), outputsQuery(s, userId, [id.data])] as const) : null;
  },
  { dataKey: true },
);
/** A page of the gallery (one row more, for the cursor) and its outputs, in one batch. */
const galleryReads = routeReads(
  (s, userId, c) => {
    const query = PageQuery.safeParse(c.req.query());
    if (!query.success) return null;
    const { limit, cursor } = query.data;
    const after = cursor ? decodeKeysetCursor(cursor, "gen") : undefined;
    return [generationPageQuery(s, userId, limit + 1, after), generationPageOutputsQuery(s, userId, limit + 1, after)] as const;
  },
  { dataKey: true },
);
const PhotoId = z.string().regex(idPattern("pho"), "must be a photo id (pho_...)");

const Options = {
  gender: z.enum(["girl", "boy", "surprise"]).openapi({ description: "The baby's gender; `surprise` lets the model choose." }),
  ageGroup: z.enum(["newborn", "toddler", "child"]),
  resemblance: z.number().min(0).max(1).openapi({ description: "0 = looks like the father, 1 = looks like the mother.", example: 0.5 }),
  images: z.number().int().min(1).max(4).openapi({ description: "How many images to make (each costs nothing extra).", example: 1 }),
};

const CreateGenerationBody = z
  .object({ motherPhotoId: PhotoId, fatherPhotoId: PhotoId, ...Options })
  .strict()
  .openapi("CreateGeneration", {
    example: {
      motherPhotoId: "pho_3b1f0e2d9c8b4a7f6e5d4c3b2a190807",
      fatherPhotoId: "pho_8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b",
      gender: "surprise",
      ageGroup: "newborn",
      resemblance: 0.5,
      images: 2,
    },
  });

const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({ description: "Required. 1-255 printable ASCII characters; retries with the same key and body return the same generation." }),
});

const Output = z
  .object({
    id: z.string(),
    contentType: z.string(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    url: z.string().nullable().openapi({ description: "Signed link (`/v1/files/...`), valid for at most one hour; no Authorization needed." }),
    urlExpiresAt: z.string().nullable(),
    downloadPath: z.string().openapi({ description: "Owner-only path that serves the same bytes with your credentials." }),
  })
  .openapi("GenerationOutput");

const Generation = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "submitted", "completed", "failed", "canceled"]),
    stage: z.string().openapi({ description: "queued, submitting, in_queue, in_progress, finalizing, completed, failed or canceled." }),
    progress: z.object({
      percent: z.number().int().min(0).max(100).openapi({ description: "An estimate for a progress bar." }),
      stage: z.string(),
      queuePosition: z.number().int().nullable().openapi({ description: "Jobs ahead of this one at the model provider." }),
      elapsedSeconds: z.number().int(),
    }),
    options: z.object(Options),
    motherPhotoId: z.string().nullable(),
    fatherPhotoId: z.string().nullable(),
    model: z.string(),
    cost: z.number().int(),
    preview: z.boolean().openapi({
      description: "True on a local development deployment without FAL_KEY: outputs come from the local Fal fake, a labelled non-AI preview composed from the parents.",
    }),
    error: z.object({ code: z.string(), message: z.string() }).nullable().openapi({ description: "Why it failed, in words meant for the user." }),
    outputs: z.array(Output),
    createdAt: z.string(),
    submittedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    deadlineAt: z.string(),
  })
  .openapi("Generation");

const GenerationPage = z.object({ items: z.array(Generation), nextCursor: z.string().nullable() }).openapi("GenerationPage");

function view(row: GenerationRow, options: GenerationOptions, outputs: ObjectRow[], links: Map<string, SignedUrl>, now: number, preview: boolean): z.infer<typeof Generation> {
  return {
    id: row.id,
    status: row.status,
    stage: row.stage,
    progress: progressOf(row, now),
    options,
    motherPhotoId: row.motherPhotoId,
    fatherPhotoId: row.fatherPhotoId,
    model: shownModel(row.model, preview),
    cost: row.cost,
    preview,
    error: row.status === "failed" && row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? "" } : null,
    outputs: outputs.map((o) => ({
      id: o.id,
      contentType: o.contentType,
      width: o.width,
      height: o.height,
      url: links.get(o.id)?.url ?? null,
      urlExpiresAt: links.get(o.id)?.expiresAt ?? null,
      downloadPath: `/v1/generations/${row.id}/outputs/${o.id}`,
    })),
    createdAt: new Date(row.createdAt).toISOString(),
    submittedAt: iso(row.submittedAt),
    completedAt: iso(row.completedAt),
    deadlineAt: new Date(row.deadlineAt).toISOString(),
  };
}

interface ViewOptions {
  /** The route's own audit events, appended with `link.issued` in one chain write before the answer. */
  events?: AuditEvent[];
  /** Outputs of `rows` already read by the route (owner-scoped); read here otherwise. */
  outputs?: ObjectRow[];
}

/**
 * Views for rows, with one batch of signed links (one `link.issued` audit
 * entry) for all their outputs. Every audit entry of the request is recorded
 * (one insert batch) before any data is returned (docs/architecture.md).
 */
async function views(c: Context<AppEnv>, rows: GenerationRow[], opts: ViewOptions = {}) {
  const { s, auth, meta } = ownerContext(c);
  const completed = new Set(rows.filter((r) => r.status === "completed").map((r) => r.id));
  const outputs = opts.outputs
    ? opts.outputs.filter((o) => o.generationId !== null && completed.has(o.generationId))
    : await outputsOf(s, auth.userId, [...completed]);
  const signed = await signLinksFor(s, { auth, objectIds: outputs.map((o) => o.id), meta });
  const urls = signed.urls;
  const events = [...(opts.events ?? []), ...(signed.event ? [signed.event] : [])];
  // Recorded (one insert) before any data is returned; chained after the answer (docs/decisions/0018).
  await recordAudit(s, events, s.now());
  const links = new Map(outputs.map((o, i) => [o.id, urls[i]] as const).filter((e): e is [string, SignedUrl] => e[1] !== undefined));
  const now = s.now();
  const preview = isLocalPreview(s.config);
  const opened = await Promise.all(rows.map(async (r) => ({ r, options: await parseOptions(s, r) })));
  return opened.map(({ r, options }) => view(r, options, outputs.filter((o) => o.generationId === r.id), links, now, preview));
}

/** The view of one row: views() of it alone. */
async function viewOf(c: Context<AppEnv>, row: GenerationRow, opts: ViewOptions = {}) {
  const [body] = await views(c, [row], opts);
  if (!body) throw new Error("view missing");
  return body;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** `DELETE /v1/generations/{id}`: erasure of one generation (GDPR Art. 17), through services/deletion.ts like `DELETE /v1/photos/{id}`. */
const DeleteParams = z.object({
  id: z
    .string()
    .regex(idPattern("gen"), "must be a generation id (gen_...)")
    .openapi({ param: { name: "id", in: "path" }, example: "gen_7c1e0d2b9a8f4e3d2c1b0a9f8e7d6c5b" }),
});

/**
 * `POST .../download-link`: a signed `disposition=attachment` link to one
 * result image, minted only when the owner asks to download it, so the audit
 * log says "download link issued" exactly when someone downloaded. The link
 * is an ordinary `/v1/files` capability: at most one hour, checked against D1
 * on every hit, dead once the image is deleted.
 */
const OutputParams = z.object({
  id: z
    .string()
    .regex(idPattern("gen"), "must be a generation id (gen_...)")
    .openapi({ param: { name: "id", in: "path" }, example: "gen_7c1e0d2b9a8f4e3d2c1b0a9f8e7d6c5b" }),
  objectId: z
    .string()
    .regex(idPattern("img"), "must be an output id (img_...)")
    .openapi({ param: { name: "objectId", in: "path" }, example: "img_9f86d081884c7d659a2feaa0c55ad015" }),
});

const DownloadLink = z
  .object({
    url: z
      .string()
      .openapi({ description: "Signed `/v1/files/...?disp=attachment` link; the response carries `Content-Disposition: attachment`." }),
    expiresAt: z.string().openapi({ format: "date-time", description: "At most one hour from now." }),
  })
  .openapi("DownloadLink");

export const generationRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/generations",
      tags: ["generations"],
      operationId: "createGeneration",
      summary: "Start a generation",
      description:
        "Reserves credits and queues the job; answers 202 with `Location`. Needs current consent (`POST /v1/me/consent`). Requires `Idempotency-Key`: the same key and body " +
        "return the same generation (200), the same key with another body is 422. Both photos must be yours. " +
        "Needs scope `generations:write` with an API key.",
      ...authenticated({ scope: "generations:write", limit: "write" }, requireConsent),
      request: { headers: IdempotencyHeader, body: jsonBody(CreateGenerationBody) },
      responses: {
        200: jsonResponse("This Idempotency-Key already created this generation", Generation),
        202: jsonResponse("Accepted and queued; poll `Location`", Generation),
        ...inputErrors,
        402: problem("Not enough credits (`insufficient_credits`)."),
        403: problem("Consent missing or withdrawn (`consent_required`), or the API key lacks the scope (`insufficient_scope`)."),
        ...notFound,
        422: problem("Idempotency-Key reused with a different body (`idempotency_key_reused`)."),
        428: problem("Missing Idempotency-Key (`idempotency_key_required`)."),
        503: problem("The job could not be queued (`upstream_unavailable`); credits were refunded, retry later."),
      },
    }),
    async (c) => {
      const { s, auth, meta } = ownerContext(c);
      const key = c.req.valid("header")["idempotency-key"];
      if (key === undefined || key === "") throw new AppError("idempotency_key_required", "Send an Idempotency-Key header (e.g. a UUID) so retries are safe.");
      if (!IDEMPOTENCY_KEY.test(key)) {
        throw new AppError("validation_failed", "The Idempotency-Key header is not valid.", {
          errors: [{ field: "Idempotency-Key", message: "1-255 printable ASCII characters" }],
        });
      }
      const { row, created } = await createGeneration(s, {
        userId: auth.userId,
        actor: auditActor(auth),
        input: c.req.valid("json"),
        idempotencyKey: key,
        meta,
      });
      c.header("Location", `/v1/generations/${row.id}`);
      if (!created) c.header("Idempotent-Replayed", "true");
      const body = await viewOf(c, row);
      return created ? c.json(body, 202) : c.json(body, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/generations",
      tags: ["generations"],
      operationId: "listGenerations",
      summary: "Your generations, newest first",
      description: "Cursor pagination: pass `nextCursor` back as `cursor`. Needs scope `generations:read` with an API key.",
      ...authenticated({ scope: "generations:read", limit: "read", reads: galleryReads }),
      request: { query: PageQuery },
      responses: { 200: jsonResponse("One page", GenerationPage), ...inputErrors },
    }),
    async (c) => {
      const { s, auth, meta } = ownerContext(c);
      const { limit, cursor } = c.req.valid("query");
      // A cursor that does not parse is refused here, before any read.
      if (cursor) decodeKeysetCursor(cursor, "gen");
      // The page and its outputs (usually in the user lookup's batch), while the user's
      // data key (the audit entries' sealed fields) loads from R2 alongside.
      const [[rows, outputs]] = await Promise.all([galleryReads.results(c), userDataKey(s, auth.userId, { create: false })]);
      const { page, nextCursor } = keysetPage(rows, limit);
      const listed: AuditEvent = {
        userId: auth.userId,
        actor: auditActor(auth),
        action: "generation.listed",
        detail: { count: page.length },
        meta,
      };
      return c.json({ items: await views(c, page, { events: [listed], outputs }), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/generations/{id}",
      tags: ["generations"],
      operationId: "getGeneration",
      summary: "A generation's status, progress and outputs",
      description: "Poll this after creating one. Needs scope `generations:read` with an API key.",
      ...authenticated({ scope: "generations:read", limit: "read", reads: generationReads }),
      request: { params: z.object({ id: GenerationId }) },
      responses: ownedResponses(jsonResponse("The generation", Generation)),
    }),
    async (c) => {
      const { s, auth, meta, missing } = ownerContext(c);
      const { id } = c.req.valid("param");
      // Every read the answer needs (usually in the user lookup's batch), while the
      // user's data key (the audit entries' sealed fields) loads from R2 alongside.
      const [[found, outputs]] = await Promise.all([generationReads.results(c), userDataKey(s, auth.userId, { create: false })]);
      const [row] = found;
      if (!row) throw await missing("generations", id);
      const viewed: AuditEvent = { userId: auth.userId, actor: auditActor(auth), action: "generation.viewed", target: { type: "generation", id }, meta };
      const body = await viewOf(c, row, { events: [viewed], outputs });
      return c.json(body, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/generations/{id}/cancel",
      tags: ["generations"],
      operationId: "cancelGeneration",
      summary: "Cancel a generation that has not finished",
      description: "Refunds its credits and asks the model provider to drop it. Needs scope `generations:write` with an API key.",
      ...authenticated({ scope: "generations:write", limit: "write" }),
      request: { params: z.object({ id: GenerationId }) },
      responses: { 200: jsonResponse("Canceled", Generation), ...ownedErrors, 409: problem("It already finished (`conflict`).") },
    }),
    async (c) => {
      const { s, auth, missing } = ownerContext(c);
      const { id } = c.req.valid("param");
      const row = await getGenerationRow(s, auth.userId, id);
      if (!row) throw await missing("generations", id);
      // The canceled row as the update wrote it: no second read.
      const after = await cancelGeneration(s, row, auditActor(auth));
      if (!after) throw new AppError("conflict", "This generation has already finished and cannot be canceled.");
      const body = await viewOf(c, after);
      return c.json(body, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/generations/{id}/outputs/{objectId}",
      tags: ["generations"],
      operationId: "getGenerationOutput",
      summary: "One output image (owner only)",
      description:
        "Serves the decrypted image to its owner, `Cache-Control: private, no-store`. Prefer the signed `url` in the generation " +
        "for `<img>` tags. Needs scope `generations:read` with an API key.",
      ...authenticated({ scope: "generations:read", limit: "read" }),
      request: { params: z.object({ id: GenerationId, objectId: z.string().regex(idPattern("img")).openapi({ param: { name: "objectId", in: "path" } }) }) },
      responses: {
        200: { description: "The image", content: { "image/jpeg": { schema: z.string().openapi({ format: "binary" }) }, "image/png": { schema: z.string().openapi({ format: "binary" }) } } },
        ...ownedErrors,
      },
    }),
    async (c) => {
      const { s, auth, missing, audit } = ownerContext(c);
      const { id, objectId } = c.req.valid("param");
      const row = await getGenerationRow(s, auth.userId, id);
      const obj = row ? await getObject(s, auth.userId, objectId) : null;
      if (!row || !obj || obj.row.kind !== "output" || obj.row.generationId !== id) {
        throw await missing("objects", objectId);
      }
      await audit({ action: "file.downloaded", target: { type: "object", id: objectId }, detail: { generationId: id } });
      const ext = obj.row.contentType === "image/png" ? "png" : obj.row.contentType === "image/webp" ? "webp" : "jpg";
      return c.body(obj.bytes as Uint8Array<ArrayBuffer>, 200, {
        "content-type": obj.row.contentType,
        "content-length": String(obj.bytes.length),
        "cache-control": "private, no-store",
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox",
        "content-disposition": `inline; filename="babypic-${objectId}.${ext}"`,
      });
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/generations/{id}",
      tags: ["generations"],
      operationId: "deleteGeneration",
      summary: "Delete a generation and its images",
      description:
        "Removes the generated images, the generation and any export holding them; links to them stop working at once. A generation still " +
        "running is canceled and refunded first. Returns a deletion receipt (counts and time; ids only as hashes). Parent photos keep their " +
        "own retention (see `DELETE /v1/photos/{id}`). Needs scope `generations:write` with an API key.",
      ...authenticated({ scope: "generations:write", limit: "write" }),
      request: { params: DeleteParams },
      responses: ownedResponses(jsonResponse("Deleted; the receipt", ReceiptSchema)),
    }),
    async (c) => c.json(await deleteOwned(c, "generations", c.req.valid("param").id, deleteGeneration), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/generations/{id}/outputs/{objectId}/download-link",
      tags: ["generations"],
      operationId: "createOutputDownloadLink",
      summary: "A signed download (attachment) link to one result image",
      description:
        "Mints a one-hour capability link that downloads the image as a file; audited as `link.issued` (attachment), and `file.downloaded` when fetched. " +
        "Needs scope `generations:read` with an API key.",
      ...authenticated({ scope: "generations:read", limit: "read" }),
      request: { params: OutputParams },
      responses: ownedResponses(jsonResponse("The link", DownloadLink)),
    }),
    async (c) => {
      const { s, auth, meta, missing } = ownerContext(c);
      const { id, objectId } = c.req.valid("param");
      // Owner, kind and generation in the one query: anyone else's id is the same 404 as a missing one.
      const row = await s.db
        .select({ id: objects.id })
        .from(objects)
        .where(and(eq(objects.id, objectId), eq(objects.userId, auth.userId), eq(objects.kind, "output"), eq(objects.generationId, id)))
        .get();
      if (!row) throw await missing("objects", objectId);
      const link = await issueSignedUrl(s, { auth, objectId: row.id, disposition: "attachment", meta });
      c.header("cache-control", "no-store");
      return c.json({ url: link.url, expiresAt: link.expiresAt }, 200);
    },
  );
