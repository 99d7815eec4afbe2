/**
 * Parent photos (docs/architecture.md, issue 3). `POST /v1/photos` takes a sealed
 * upload (docs/storage-format.md §1), caps its size before reading it, opens
 * it in memory, validates and strips the image, and stores it encrypted at
 * rest. Reads and deletes are owner-only; anyone else gets the same 404 as for
 * an id that does not exist.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { objects } from "../db/schema";
import { AppError } from "../errors";
import { decodeKeysetCursor, keysetPage, keysetQuery } from "../lib/cursor";
import { logger } from "../lib/log";
import { requestMeta } from "../lib/request-meta";
import { deleteOwned } from "../lib/owned";
import { createRouter } from "../lib/router";
import { envelopeHeadLength, openUpload, UPLOAD_ID_PATTERN, type SplitEnvelope } from "../lib/upload-envelope";
import { authenticated } from "../middleware/auth";
import { authErrors, badRequest, notFound, PageQuery, problem } from "../schemas/common";
import { appendAudit, auditActor, recordAudit, type AuditEvent } from "../services/audit";
import { uploadPrivateKey } from "../services/crypto/upload-keys";
import { requireConsent } from "../middleware/consent";
import { deletePhoto } from "../services/deletion";
import { ReceiptSchema } from "../schemas/deletion";
import { IMAGE_TYPES, validateImage, type ImageType } from "../services/image";
import { logSecurityEvent, notFoundFor } from "../services/security-log";
import { signLinksFor, type SignedUrl } from "../services/signed-links";
import { putObject, UnscannedMarkerError, type ObjectRow } from "../services/storage";
import { iso } from "../lib/iso";
import { idPattern } from "../lib/ids";
import { isUniqueViolation } from "../db/unique";

/** An upload not yet used by a generation is deleted by the retention sweep after this. */
export const UNUSED_UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

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

const truncated = () => new AppError("invalid_envelope", "The sealed upload is truncated.");
const notSealed = () => new AppError("invalid_envelope", "The body is not a BabyPic sealed upload.");

/**
 * Reads a sealed upload, putting the ciphertext in a buffer of its own so
 * opening it copies nothing. With a Content-Length (already checked against
 * the cap) a BYOB reader fills exactly-sized buffers, leaving no chunk garbage;
 * without one the cap is enforced chunk by chunk.
 */
async function readSealedBody(req: Request, cap: number, declaredLength: number | null): Promise<SplitEnvelope> {
  const body = req.body;
  if (!body || declaredLength === 0) throw new AppError("invalid_envelope", "The request body is empty.");
  return declaredLength === null ? readChunked(body, cap) : readKnownLength(body, declaredLength);
}

async function readKnownLength(body: ReadableStream<Uint8Array>, length: number): Promise<SplitEnvelope> {
  const reader = body.getReader({ mode: "byob" });
  /** Fills `buffer` (BYOB reads transfer it, so the filled one is returned), or null if the body ends first. */
  const fill = async (buffer: ArrayBuffer): Promise<ArrayBuffer | null> => {
    let buf = buffer;
    let off = 0;
    while (off < buf.byteLength) {
      const { value, done } = await reader.read(new Uint8Array(buf, off));
      if (done || !value) return null;
      buf = value.buffer as ArrayBuffer;
      off += value.byteLength;
    }
    return buf;
  };
  try {
    const first = length >= 12 ? await fill(new ArrayBuffer(12)) : null;
    if (!first) throw truncated();
    const headLength = envelopeHeadLength(new Uint8Array(first));
    if (!headLength) throw notSealed();
    if (length < headLength) throw truncated();
    const rest = await fill(new ArrayBuffer(headLength - 12));
    if (!rest) throw truncated();
    const head = new Uint8Array(headLength);
    head.set(new Uint8Array(first), 0);
    head.set(new Uint8Array(rest), 12);
    const ciphertext = await fill(new ArrayBuffer(length - headLength));
    if (!ciphertext) throw truncated();
    const extra = await reader.read(new Uint8Array(1));
    if (!extra.done) throw new AppError("invalid_envelope", "The body is longer than its Content-Length.");
    return { head, ciphertext };
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  }
}

async function readChunked(body: ReadableStream<Uint8Array>, cap: number): Promise<SplitEnvelope> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > cap) throw new AppError("payload_too_large", `Sealed uploads are limited to ${cap} bytes.`);
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  }
  /** Copies bytes [from, from + out.length) of the chunk list into `out`. */
  const copyRange = (from: number, out: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => {
    let pos = 0;
    let o = 0;
    for (const chunk of chunks) {
      const end = pos + chunk.length;
      if (end > from && o < out.length) {
        const start = Math.max(0, from + o - pos);
        const take = Math.min(chunk.length - start, out.length - o);
        out.set(chunk.subarray(start, start + take), o);
        o += take;
      }
      pos = end;
    }
    return out;
  };
  if (total < 12) throw truncated();
  const headLength = envelopeHeadLength(copyRange(0, new Uint8Array(12)));
  if (!headLength) throw notSealed();
  if (total < headLength) throw truncated();
  return { head: copyRange(0, new Uint8Array(headLength)), ciphertext: copyRange(headLength, new Uint8Array(total - headLength)).buffer };
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
      const s = c.get("services");
      const auth = c.get("auth");
      const meta = requestMeta(c.req.raw, c.get("requestId"));
      const cap = s.config.MAX_UPLOAD_BYTES;
      const lengthHeader = c.req.header("content-length");
      const declaredLength = lengthHeader !== undefined && /^\d{1,15}$/.test(lengthHeader) ? Number(lengthHeader) : null;
      // RFC 9110 §15.5.14: refuse by the declared length before reading a byte.
      if (declaredLength !== null && declaredLength > cap) throw new AppError("payload_too_large", `Sealed uploads are limited to ${cap} bytes.`);
      const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
      if (mediaType !== "application/octet-stream") {
        throw new AppError("unsupported_media_type", "Send the sealed upload as application/octet-stream.");
      }
      const headers = c.req.valid("header");
      const uploadId = headers["x-upload-id"];

      // No local keeps the ciphertext, so once opened it can be collected: one copy of the photo fewer to hold.
      const opened = await openUpload({
        envelope: await readSealedBody(c.req.raw, cap, declaredLength),
        userId: auth.userId,
        uploadId,
        resolveKey: (kid) => uploadPrivateKey(s.config.HPKE_KEYS, kid),
      });
      if (!opened.ok) {
        await logSecurityEvent(s.db, "signature_failed", meta, s.now(), { reason: `upload-envelope:${opened.reason}`, userId: auth.userId, path: c.req.path });
        throw new AppError(opened.reason === "unknown_key" ? "unknown_key" : "invalid_envelope", opened.detail);
      }
      if (headers["x-upload-key-id"] !== undefined && headers["x-upload-key-id"] !== opened.value.keyId) {
        throw new AppError("invalid_envelope", "X-Upload-Key-Id does not match the key id inside the envelope.");
      }
      const conflict = () => new AppError("conflict", "This upload id was already used; a sealed upload can be stored once.");
      if (await s.db.select({ id: objects.id }).from(objects).where(eq(objects.uploadId, uploadId)).get()) throw conflict();

      const declaredType = headers["x-upload-content-type"];
      const validate = (bytes: Uint8Array, deferEntropyScan: boolean) => {
        // In place: the decrypted buffer is ours, so stripping compacts it instead of copying the photo.
        const result = validateImage(bytes, declaredType, { inPlace: true, deferEntropyScan });
        if (!result.ok) {
          logger.warn("photo.rejected", { reason: result.reason, requestId: meta.requestId });
          throw new AppError("invalid_image", result.detail, { reason: result.reason });
        }
        return result.value;
      };
      // A JPEG's scan data is checked while it is encrypted (one pass over the photo, decision 0007).
      let image = validate(opened.value.bytes, true);
      const now = s.now();
      // One clock reading for createdAt and the 24 h deadline.
      const store = (img: typeof image) =>
        putObject({ ...s, now: () => now }, {
          userId: auth.userId,
          kind: "photo",
          contentType: img.type,
          bytes: img.bytes,
          entropyScan: img.unscannedEntropy,
          width: img.width,
          height: img.height,
          uploadId,
          expiresAt: now + UNUSED_UPLOAD_TTL_MS,
        });
      let row: ObjectRow;
      try {
        try {
          row = await store(image);
        } catch (err) {
          if (!(err instanceof UnscannedMarkerError)) throw err;
          logger.info("photo.deferred_scan_fallback", { requestId: meta.requestId });
          // A marker inside what should have been one scan's data (a progressive JPEG, or bytes hidden
          // before a final FFD9): nothing was stored; the full walk decides, on the stripped bytes
          // (everything from the first scan on is unchanged by the strip).
          const removed = image.removed;
          image = validate(image.bytes, false);
          image.removed = [...new Set([...removed, ...image.removed])];
          row = await store(image);
        }
      } catch (err) {
        // Two identical uploads racing: the unique index on upload_id decides, the loser's object is removed by putObject.
        if (isUniqueViolation(err)) throw conflict();
        throw err;
      }
      await appendAudit(
        s.db,
        {
          userId: auth.userId,
          actor: auditActor(auth),
          action: "photo.uploaded",
          target: { type: "photo", id: row.id },
          detail: {
            bytes: row.bytes,
            width: image.width,
            height: image.height,
            contentType: image.type,
            keyId: opened.value.keyId,
            metadataRemoved: image.removed.join(",") || null,
          },
          meta,
        },
        now,
      );
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
      const s = c.get("services");
      const auth = c.get("auth");
      const { limit, cursor } = c.req.valid("query");
      const after = cursor ? decodeKeysetCursor(cursor, "pho") : null;
      const q = keysetQuery(and(eq(objects.userId, auth.userId), eq(objects.kind, "photo")), objects.createdAt, objects.id, after);
      const rows = await s.db.select().from(objects).where(q.where).orderBy(...q.orderBy).limit(limit + 1).all();
      const { page, nextCursor } = keysetPage(rows, limit);
      const meta = requestMeta(c.req.raw, c.get("requestId"));
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
      responses: {
        200: { description: "The photo", content: { "application/json": { schema: Photo } } },
        ...badRequest,
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const s = c.get("services");
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const meta = requestMeta(c.req.raw, c.get("requestId"));
      const row = await s.db
        .select()
        .from(objects)
        .where(and(eq(objects.id, id), eq(objects.userId, auth.userId), eq(objects.kind, "photo")))
        .get();
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
      responses: {
        200: { description: "Deleted; the deletion receipt", content: { "application/json": { schema: ReceiptSchema } } },
        ...badRequest,
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => c.json(await deleteOwned(c, "objects", c.req.valid("param").id, deletePhoto), 200),
  );
