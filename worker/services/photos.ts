/**
 * Parent photos: the reads of the `objects` rows of kind `photo` and the I/O
 * step of an upload (docs/architecture.md, "The data journey", step 2). The
 * route (worker/routes/photos.ts) parses the sealed upload and decides whether
 * to take it; `storePhoto` encrypts and stores what it took, and records it.
 */
import { and, eq } from "drizzle-orm";
import { objects } from "../db/schema";
import { isUniqueViolation } from "../db/unique";
import { keysetQuery, type KeysetCursor } from "../lib/cursor";
import { DomainError } from "../lib/domain-error";
import { logger } from "../lib/log";
import type { RequestMeta } from "../lib/request-meta";
import { appendAudit, type AuditEvent } from "./audit";
import type { CleanImage } from "./image";
import { putObject, UnscannedMarkerError } from "./storage";
import type { ObjectRow, Services } from "./types";

/** An upload not yet used by a generation is deleted by the retention sweep after this. */
export const UNUSED_UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

/** The answer to a reused upload id (`conflict`): a replayed envelope, or two identical uploads racing. */
export const UPLOAD_ID_USED = "This upload id was already used; a sealed upload can be stored once.";

/** Whether a photo was already stored under this upload id (the unique index still decides a race). */
export async function uploadIdUsed(s: Pick<Services, "db">, uploadId: string): Promise<boolean> {
  return (await s.db.select({ id: objects.id }).from(objects).where(eq(objects.uploadId, uploadId)).get()) !== undefined;
}

/** One of the user's photos, or undefined for a missing id and for anyone else's alike. */
export async function getPhotoRow(s: Pick<Services, "db">, userId: string, id: string): Promise<ObjectRow | undefined> {
  return s.db
    .select()
    .from(objects)
    .where(and(eq(objects.id, id), eq(objects.userId, userId), eq(objects.kind, "photo")))
    .get();
}

/** Up to `limit` of the user's photos, newest first, after the cursor. */
export async function listPhotoRows(s: Pick<Services, "db">, userId: string, limit: number, after: KeysetCursor | null): Promise<ObjectRow[]> {
  const q = keysetQuery(and(eq(objects.userId, userId), eq(objects.kind, "photo")), objects.createdAt, objects.id, after);
  return s.db.select().from(objects).where(q.where).orderBy(...q.orderBy).limit(limit).all();
}

export interface StorePhotoInput {
  userId: string;
  actor: AuditEvent["actor"];
  meta: RequestMeta;
  uploadId: string;
  /** The key id the envelope was sealed to, for the audit entry. */
  keyId: string;
  /** The image as the intake policy took it, its JPEG scan data possibly deferred (`unscannedEntropy`). */
  image: CleanImage;
  /**
   * The full check of bytes whose deferred scan found a marker, without
   * deferring: the intake policy again, which throws its own refusal.
   */
  recheck: (bytes: Uint8Array) => CleanImage;
}

/**
 * Encrypts and stores an accepted photo (its row expires after
 * UNUSED_UPLOAD_TTL_MS unless a generation uses it) and appends
 * `photo.uploaded` to the user's audit log. A JPEG's scan data is checked
 * while it is encrypted (one pass over the photo, decision 0007); when that
 * finds a marker nothing was stored, `recheck` decides and the stripped bytes
 * are stored again. Throws DomainError `conflict` when the upload id was taken
 * meanwhile.
 */
export async function storePhoto(s: Services, input: StorePhotoInput): Promise<ObjectRow> {
  const { userId, uploadId, meta } = input;
  let image = input.image;
  const now = s.now();
  // One clock reading for createdAt and the 24 h deadline.
  const store = (img: CleanImage) =>
    putObject(s, {
      userId,
      kind: "photo",
      contentType: img.type,
      bytes: img.bytes,
      entropyScan: img.unscannedEntropy,
      width: img.width,
      height: img.height,
      uploadId,
      expiresAt: now + UNUSED_UPLOAD_TTL_MS,
      createdAt: now,
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
      image = input.recheck(image.bytes);
      image.removed = [...new Set([...removed, ...image.removed])];
      row = await store(image);
    }
  } catch (err) {
    // Two identical uploads racing: the unique index on upload_id decides, the loser's object is removed by putObject.
    if (isUniqueViolation(err)) throw new DomainError("conflict", UPLOAD_ID_USED);
    throw err;
  }
  await appendAudit(
    s.db,
    {
      userId,
      actor: input.actor,
      action: "photo.uploaded",
      target: { type: "photo", id: row.id },
      detail: {
        bytes: row.bytes,
        width: image.width,
        height: image.height,
        contentType: image.type,
        keyId: input.keyId,
        metadataRemoved: image.removed.join(",") || null,
      },
      meta,
    },
    now,
  );
  return row;
}
