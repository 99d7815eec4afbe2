/**
 * Parent photos (docs/architecture.md, issue 3). `POST /v1/photos` takes a sealed
 * upload (docs/storage-format.md §1), caps its size before reading it, opens
 * it in memory, validates and strips the image, and stores it encrypted at
 * rest. Its handler runs three steps: parse (lib/upload-request.ts: the body
 * read within the cap and opened, or its problem), policy (`admitPhoto`: a new
 * upload id, an acceptable image) and I/O (services/photos.ts `storePhoto`:
 * encrypt, store, audit). Reads and deletes are owner-only; anyone else gets
 * the same 404 as for an id that does not exist.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { decodeKeysetCursor, keysetPage } from "../lib/cursor";
import { logger } from "../lib/log";
import { deleteOwned, ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { UPLOAD_ID_PATTERN } from "../lib/upload-envelope";
import { parseUpload, type ParsedUpload } from "../lib/upload-request";
import { authenticated } from "../middleware/auth";
import { authErrors, badRequest, ownedResponses, PageQuery, problem } from "../schemas/common";
import { auditActor, recordAudit, type AuditEvent } from "../services/audit";
import { uploadPrivateKey } from "../services/crypto/upload-keys";
import { requireConsent } from "../middleware/consent";
import { deletePhoto } from "../services/deletion";
import { ReceiptSchema } from "../schemas/deletion";
import { IMAGE_TYPES, validateImage, type CleanImage, type ImageType } from "../services/image";
import { getPhotoRow, listPhotoRows, storePhoto, uploadIdUsed, UPLOAD_ID_USED } from "../services/photos";
import { logSecurityEvent, notFoundFor } from "../services/security-log";
import { signLinksFor, type SignedUrl } from "../services/signed-links";
import type { ObjectRow } from "../services/storage";
import { iso } from "../lib/iso";
import { idPattern } from "../lib/ids";

const Photo = z
  .object({
    id: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    bytes: z.number().int().openapi({ description: "Size of the stored (metadata-stripped) image." }),
    contentType: z.enum(IMAGE_TYPES as [ImageType, ...ImageType[]]),
    createdAt: z.string().openapi({ format: "date-time" }),
    expiresAt: z
      .string()
      .nullable()
      .openapi({ format: "date-time", description: "When retention deletes it; null once kept by the user's retention choice." }),
    url: z
      .string()
      .nullable()
      .openapi({ description: "Signed link to the image (`/v1/files/...`, inline) for thumbnails, valid for at most one hour; null in the upload response." }),
    urlExpiresAt: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("Photo", {
    example: {
      id: "pho_0f343b0931126a20f133d67c2b018a3b",
      width: 1536,
      height: 2048,
      bytes: 612345,
      contentType: "image/jpeg",
      createdAt: "2026-11-27T06:00:00.000Z",
      expiresAt: "2026-11-28T06:00:00.000Z",
      url: "https://api.babypic.app/v1/files/pho_0f343b0931126a20f133d67c2b018a3b?exp=1795759200&disp=inline&kid=url-1&sig=...",
      urlExpiresAt: "2026-11-27T07:00:00.000Z",
    },
  });

const PhotoList = z.object({ photos: z.array(Photo), nextCursor: z.string().nullable() }).openapi("PhotoList");

const PhotoParams = z.object({
  id: z
    .string()
    .regex(idPattern("pho"))
    .openapi({ param: { name: "id", in: "path" }, example: "pho_0f343b0931126a20f133d67c2b018a3b" }),
});

const UploadHeaders = z.object({
  "x-upload-id": z
    .string()
    .regex(UPLOAD_ID_PATTERN, "16-64 characters of A-Z a-z 0-9 _ -")
    .openapi({ description: "Random id chosen by the client, bound into the envelope; unique (a replay gets 409).", example: "3f1c2a9e-0b7d-4c3a-8e6f-5d4c3b2a1908" }),
  "x-upload-content-type": z
    .enum(IMAGE_TYPES as [ImageType, ...ImageType[]])
    .openapi({ description: "The sealed image's type; must agree with its magic bytes." }),
  "x-upload-key-id": z
    .string()
    .max(64)
    .optional()
    .openapi({ description: "Optional; when sent it must equal the key id inside the envelope." }),
});

function view(row: ObjectRow, link: SignedUrl | null = null) {
  return {
    id: row.id,
    width: row.width ?? 0,
    height: row.height ?? 0,
    bytes: row.bytes,
    contentType: row.contentType as ImageType,
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: iso(row.expiresAt),
    url: link?.url ?? null,
    urlExpiresAt: link?.expiresAt ?? null,
  };
}

/**
 * The image rules (services/image.ts, docs/storage-format.md §4): type, size,
 * dimensions, structure; a refusal is `invalid_image` with its reason. In
 * place: the decrypted buffer is ours, so stripping compacts it instead of
 * copying the photo.
 */
function checkImage(bytes: Uint8Array, declaredType: ImageType, deferEntropyScan: boolean, requestId: string | null): CleanImage {
  const result = validateImage(bytes, declaredType, { inPlace: true, deferEntropyScan });
  if (!result.ok) {
    logger.warn("photo.rejected", { reason: result.reason, requestId });
    throw new AppError("invalid_image", result.detail, { reason: result.reason });
  }
  return result.value;
}

/**
 * The intake policy: whether to take this photo, given whether its upload id
 * was used already. Pure; the first refusal wins: a reused upload id (409)
 * before the image rules. A JPEG's scan data is left to be checked while it
 * is encrypted (one pass over the photo, decision 0007; `storePhoto`).
 */
function admitPhoto(upload: ParsedUpload<ImageType>, state: { uploadIdUsed: boolean }, requestId: string | null): CleanImage {
  if (state.uploadIdUsed) throw new AppError("conflict", UPLOAD_ID_USED);
  return checkImage(upload.bytes, upload.declaredType, true, requestId);
}

export const photoRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/photos",
      tags: ["photos"],
      operationId: "uploadPhoto",
      summary: "Upload a sealed parent photo",
      description:
        "Body: the binary HPKE envelope (docs/storage-format.md §1), sealed to `GET /v1/keys/upload` with associated data binding your user id, " +
        "`X-Upload-Id` and the key id. JPEG, PNG or WebP, 256 px to 40 MP; metadata is stripped again here. " +
        "The photo is deleted 24 h after upload unless a generation uses it. Needs current consent (`POST /v1/me/consent`).",
      ...authenticated({ scope: "photos:write", limit: "write" }, requireConsent),
      request: {
        headers: UploadHeaders,
        body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } }, required: true },
      },
      responses: {
        201: { description: "Stored", content: { "application/json": { schema: Photo } } },
        400: problem("`invalid_envelope` (tampered, sealed for another user or upload id, truncated), `unknown_key`, `invalid_image` (with `reason`), or `validation_failed` headers."),
        ...authErrors,
        403: problem("Consent missing, withdrawn or given to older terms (`consent_required`), or the API key lacks the scope (`insufficient_scope`)."),
        409: problem("This upload id was already used (`conflict`): a replayed envelope."),
        413: problem("The body exceeds `maxUploadBytes` (`payload_too_large`); checked against Content-Length before reading, and while reading a body sent without one."),
        415: problem("The body must be `application/octet-stream` (`unsupported_media_type`)."),
      },
    }),
    async (c) => {
      const { s, auth, meta } = ownerContext(c);
      // Parse: the body, read within the cap and opened for this caller (413, 415, 400 invalid_envelope or unknown_key).
      const parsed = await parseUpload(c.req.raw, c.req.valid("header"), {
        cap: s.config.MAX_UPLOAD_BYTES,
        userId: auth.userId,
        resolveKey: (kid) => uploadPrivateKey(s.config.HPKE_KEYS, kid),
      });
      if (!parsed.ok) {
        await logSecurityEvent(s.db, "signature_failed", meta, s.now(), { reason: `upload-envelope:${parsed.reason}`, userId: auth.userId, path: c.req.path });
        throw new AppError(parsed.reason === "unknown_key" ? "unknown_key" : "invalid_envelope", parsed.detail);
      }
      const upload = parsed.value;
      // Policy: a new upload id (409), then an acceptable image (400 invalid_image).
      const image = admitPhoto(upload, { uploadIdUsed: await uploadIdUsed(s, upload.uploadId) }, meta.requestId);
      // I/O: encrypt and store, then the audit entry.
      const row = await storePhoto(s, {
        userId: auth.userId,
        actor: auditActor(auth),
        meta,
        uploadId: upload.uploadId,
        keyId: upload.keyId,
        image,
        recheck: (bytes) => checkImage(bytes, upload.declaredType, false, meta.requestId),
      });
      c.header("location", `/v1/photos/${row.id}`);
      c.header("cache-control", "no-store");
      return c.json(view(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/photos",
      tags: ["photos"],
      operationId: "listPhotos",
      summary: "List your parent photos, newest first",
      ...authenticated({ scope: "photos:read", limit: "read" }),
      request: { query: PageQuery },
      responses: {
        200: { description: "A page of photos", content: { "application/json": { schema: PhotoList } } },
        ...badRequest,
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const { s, auth, meta } = ownerContext(c);
      const rows = await listPhotoRows(s, auth.userId, limit + 1, cursor ? decodeKeysetCursor(cursor, "pho") : null);
      const { page, nextCursor } = keysetPage(rows, limit);
      // One `link.issued` entry for the page's thumbnails, written with `photo.listed` in one chain append.
      const signed = await signLinksFor(s, { auth, objectIds: page.map((r) => r.id), meta });
      const listed: AuditEvent = { userId: auth.userId, actor: auditActor(auth), action: "photo.listed", detail: { count: page.length }, meta };
      await recordAudit(s, signed.event ? [listed, signed.event] : [listed], s.now());
      c.header("cache-control", "no-store");
      return c.json({ photos: page.map((r, i) => view(r, signed.urls[i] ?? null)), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/photos/{id}",
      tags: ["photos"],
      operationId: "getPhoto",
      summary: "One of your parent photos (metadata; the image itself is served by a signed /v1/files link)",
      ...authenticated({ scope: "photos:read", limit: "read" }),
      request: { params: PhotoParams },
      responses: ownedResponses({ description: "The photo", content: { "application/json": { schema: Photo } } }),
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { s, auth, meta } = ownerContext(c);
      const row = await getPhotoRow(s, auth.userId, id);
      if (!row) throw await notFoundFor(s, { table: "objects", id, userId: auth.userId, meta, path: c.req.path });
      const signed = await signLinksFor(s, { auth, objectIds: [row.id], disposition: "inline", meta });
      const viewed: AuditEvent = { userId: auth.userId, actor: auditActor(auth), action: "photo.viewed", target: { type: "photo", id }, meta };
      await recordAudit(s, signed.event ? [viewed, signed.event] : [viewed], s.now());
      c.header("cache-control", "no-store");
      return c.json(view(row, signed.urls[0] ?? null), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/photos/{id}",
      tags: ["photos"],
      operationId: "deletePhoto",
      summary: "Delete one of your parent photos",
      description: "Removes the encrypted object, its row and any export holding it, and records a deletion receipt.",
      ...authenticated({ scope: "photos:write", limit: "write" }),
      request: { params: PhotoParams },
      responses: ownedResponses({ description: "Deleted; the deletion receipt", content: { "application/json": { schema: ReceiptSchema } } }),
    }),
    async (c) => c.json(await deleteOwned(c, "objects", c.req.valid("param").id, deletePhoto), 200),
  );
