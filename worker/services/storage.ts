/**
 * Encrypted object storage (docs/architecture.md, docs/storage-format.md §3): every
 * photo, generated image and export is written to R2 only in the segmented
 * AES-256-GCM format, under an opaque key `u/<userId>/<kind>/<id>`, with its
 * row in `objects`. Plaintext never reaches R2. Every read names the owner in
 * the query, so another user's id reads as missing.
 */
import { and, eq, inArray } from "drizzle-orm";
import { objects } from "../db/schema";
import { DomainError } from "../lib/domain-error";
import { newId } from "../lib/ids";
import { streamOf } from "../lib/generator-stream";
import { firstMarker } from "../lib/jpeg-scan";
import { logger } from "../lib/log";
import { shredUserKey as shredKey, userDataKey, userKeyPath } from "./crypto/keys";
import {
  HEADER_LENGTH,
  ObjectIntegrityError,
  encodeHeader,
  SegmentCipher,
  TAG_LENGTH,
  newHeader,
  parseHeader,
  plaintextLengthOf,
  sealStream,
  segmentCount,
  storedLength,
  type ObjectKind,
} from "./crypto/segmented";
import type { Services } from "./types";

export type ObjectRow = typeof objects.$inferSelect;
export type { ObjectKind };
export { ObjectIntegrityError };

export interface PutObjectInput {
  userId: string;
  kind: ObjectKind;
  contentType: string;
  bytes: Uint8Array | ReadableStream<Uint8Array>;
  /**
   * With `bytes`: JPEG entropy-coded data that `validateImage` left unscanned
   * (`unscannedEntropy`). It is checked for markers segment by segment as the
   * bytes are encrypted; on one, nothing is stored and `UnscannedMarkerError`
   * is thrown.
   */
  entropyScan?: { start: number; end: number };
  width?: number | null;
  height?: number | null;
  generationId?: string | null;
  uploadId?: string | null;
  expiresAt?: number | null;
  id?: string;
  /** The row's created_at; the services' clock when absent. */
  createdAt?: number;
}

/** R2 multipart parts must be equal-sized (except the last) and >= 5 MiB. */
export const STREAM_PART_SIZE = 5 * 1024 * 1024;

const ID_PREFIX = { photo: "pho", output: "img", export: "exp" } as const;

export function objectKey(userId: string, kind: ObjectKind, id: string): string {
  return `u/${userId}/${kind}/${id}`;
}

/**
 * Every R2 prefix that holds this user's data: their objects, and their
 * wrapped key (`keys/<userId>` is an exact key; user ids have a fixed length,
 * so as a prefix it matches no one else).
 */
export function userPrefixes(userId: string): string[] {
  return [`u/${userId}/`, userKeyPath(userId)];
}

export async function shredUserKey(s: Services, userId: string): Promise<void> {
  await shredKey(s, userId);
}

/** An unscanned range (`PutObjectInput.entropyScan`) held a marker: validate the image fully, then store that. */
export class UnscannedMarkerError extends Error {
  constructor() {
    super("the deferred JPEG entropy-data check found a marker");
    this.name = "UnscannedMarkerError";
  }
}

/**
 * The at-rest encryption of a known-length object on its own: the header, then
 * one sealed segment at a time, each handed to `write` (awaited, so a slow sink
 * holds back the next seal). `putObject` writes into R2; bench/intake times it
 * into an in-memory sink, so what it measures is exactly this code.
 */
export async function sealObjectBytes(
  cipher: SegmentCipher,
  bytes: Uint8Array,
  counter: { plaintextBytes: number },
  write: (chunk: Uint8Array) => Promise<void>,
  entropyScan?: { start: number; end: number },
): Promise<void> {
  if (!entropyScan) {
    for await (const chunk of sealStream(cipher, [bytes], counter)) await write(chunk);
    return;
  }
  // Each segment's scan data is checked just before the segment is encrypted, while its bytes are
  // still in the CPU's cache: one pass over the photo for both (docs/decisions/0007).
  await write(encodeHeader(cipher.header));
  const size = cipher.segmentSize;
  const n = segmentCount(bytes.length, size);
  for (let i = 0; i < n; i++) {
    const start = i * size;
    const end = Math.min(start + size, bytes.length);
    const from = Math.max(start, entropyScan.start);
    const to = Math.min(end, entropyScan.end);
    if (from < to && firstMarker(bytes, from, to) >= 0) throw new UnscannedMarkerError();
    const plain = bytes.subarray(start, end);
    counter.plaintextBytes += plain.length;
    await write(await cipher.seal(plain, i, i === n - 1));
  }
}

/** Encrypts and stores an object, then records its row. A stream input is encrypted as it arrives. */
export async function putObject(s: Services, input: PutObjectInput): Promise<ObjectRow> {
  if (input.entropyScan && !(input.bytes instanceof Uint8Array)) throw new Error("putObject: entropyScan needs the bytes in memory, not a stream");
  const id = input.id ?? newId(ID_PREFIX[input.kind]);
  const dek = await userDataKey(s, input.userId, { create: true });
  if (!dek) throw new Error("no data key");
  const cipher = await SegmentCipher.create(dek, { userId: input.userId, objectId: id, kind: input.kind }, newHeader());
  const r2Key = objectKey(input.userId, input.kind, id);
  const counter = { plaintextBytes: 0 };
  const meta = { httpMetadata: { contentType: "application/octet-stream" }, customMetadata: { format: "bpob-v1" } };

  if (input.bytes instanceof Uint8Array) {
    // Known length: stream ciphertext straight into R2, never holding it whole.
    const { readable, writable } = new FixedLengthStream(storedLength(input.bytes.length, cipher.header.segmentShift));
    const put = s.env.BUCKET.put(r2Key, readable, meta);
    const writer = writable.getWriter();
    try {
      await sealObjectBytes(cipher, input.bytes, counter, (chunk) => writer.write(chunk), input.entropyScan);
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => undefined);
      await put.catch(() => undefined);
      throw err;
    }
    await put;
  } else {
    await putStream(s, r2Key, sealStream(cipher, input.bytes, counter), meta);
  }

  const row: ObjectRow = {
    id,
    userId: input.userId,
    kind: input.kind,
    r2Key,
    contentType: input.contentType,
    bytes: counter.plaintextBytes,
    width: input.width ?? null,
    height: input.height ?? null,
    generationId: input.generationId ?? null,
    uploadId: input.uploadId ?? null,
    createdAt: input.createdAt ?? s.now(),
    expiresAt: input.expiresAt ?? null,
  };
  try {
    await s.db.insert(objects).values(row);
  } catch (err) {
    await s.env.BUCKET.delete(r2Key);
    throw err;
  }
  return row;
}

/** Unknown length: single put when small, else an R2 multipart upload of fixed-size parts. */
async function putStream(s: Services, r2Key: string, chunks: AsyncIterable<Uint8Array>, meta: R2PutOptions): Promise<void> {
  let part = new Uint8Array(STREAM_PART_SIZE);
  let fill = 0;
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];
  try {
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(STREAM_PART_SIZE - fill, chunk.length - off);
        part.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === STREAM_PART_SIZE) {
          upload ??= await s.env.BUCKET.createMultipartUpload(r2Key, meta);
          parts.push(await upload.uploadPart(parts.length + 1, part));
          part = new Uint8Array(STREAM_PART_SIZE);
          fill = 0;
        }
      }
    }
    if (!upload) {
      await s.env.BUCKET.put(r2Key, part.subarray(0, fill), meta);
      return;
    }
    if (fill > 0) parts.push(await upload.uploadPart(parts.length + 1, part.subarray(0, fill)));
    await upload.complete(parts);
  } catch (err) {
    if (upload) await upload.abort().catch(() => undefined);
    throw err;
  }
}

async function ownedRow(s: Services, userId: string, objectId: string): Promise<ObjectRow | null> {
  return (await s.db.select().from(objects).where(and(eq(objects.id, objectId), eq(objects.userId, userId))).get()) ?? null;
}

async function cipherFor(s: Services, row: ObjectRow, headerBytes: Uint8Array): Promise<SegmentCipher | null> {
  const dek = await userDataKey(s, row.userId, { create: false });
  if (!dek) {
    // Shredded (account deletion under way) or never made: the data is gone for good.
    logger.warn("storage.key_missing", { objectId: row.id });
    return null;
  }
  return SegmentCipher.create(dek, { userId: row.userId, objectId: row.id, kind: row.kind }, parseHeader(headerBytes));
}

function checkSize(row: ObjectRow, stored: number, shift: number): void {
  if (plaintextLengthOf(stored, shift) !== row.bytes) throw new ObjectIntegrityError(`stored size ${stored} does not match ${row.bytes} plaintext bytes`);
}

/** Reads and decrypts a whole object of this user; null when it is not theirs, missing, or its key is shredded. */
export async function getObject(s: Services, userId: string, objectId: string): Promise<{ row: ObjectRow; bytes: Uint8Array } | null> {
  const row = await ownedRow(s, userId, objectId);
  if (!row) return null;
  const obj = await s.env.BUCKET.get(row.r2Key);
  if (!obj) return null;
  const stored = new Uint8Array(await obj.arrayBuffer());
  const cipher = await cipherFor(s, row, stored.subarray(0, HEADER_LENGTH));
  if (!cipher) return null;
  checkSize(row, stored.length, cipher.header.segmentShift);
  const size = cipher.segmentSize;
  const n = segmentCount(row.bytes, size);
  const out = new Uint8Array(row.bytes);
  for (let i = 0; i < n; i++) {
    const start = HEADER_LENGTH + i * (size + TAG_LENGTH);
    const end = Math.min(start + size + TAG_LENGTH, stored.length);
    out.set(await cipher.open(stored.subarray(start, end), i, i === n - 1), i * size);
  }
  return { row, bytes: out };
}

/**
 * A decrypting stream of this user's object, or of `range` (inclusive `end`,
 * as in HTTP Range, RFC 9110 §14.1.2; an `end` past the object is clamped).
 * Only the segments covering the range are fetched and opened. Integrity
 * failures error the stream. Throws `range_not_satisfiable` for a start past the end.
 */
export async function openObjectStream(
  s: Services,
  userId: string,
  objectId: string,
  range?: { start: number; end: number },
): Promise<{ row: ObjectRow; stream: ReadableStream<Uint8Array>; size: number } | null> {
  const row = await ownedRow(s, userId, objectId);
  if (!row) return null;
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? row.bytes - 1, row.bytes - 1);
  if (range && (!Number.isInteger(range.start) || !Number.isInteger(range.end) || start < 0 || start > end)) {
    throw new DomainError("out_of_range", `The object has ${row.bytes} bytes.`);
  }

  if (!range) {
    const obj = await s.env.BUCKET.get(row.r2Key);
    if (!obj) return null;
    const reader = new ExactReader(obj.body);
    let cipher: SegmentCipher | null;
    try {
      const head = await reader.read(HEADER_LENGTH);
      cipher = head && (await cipherFor(s, row, head));
      if (cipher) checkSize(row, obj.size, cipher.header.segmentShift);
    } catch (err) {
      await reader.cancel();
      throw err;
    }
    if (!cipher) {
      await reader.cancel();
      return null;
    }
    const n = segmentCount(row.bytes, cipher.segmentSize);
    return { row, size: row.bytes, stream: streamOf(decryptSegments(cipher, reader, 0, n - 1, n - 1, row.bytes, 0, row.bytes - 1)) };
  }

  const headObj = await s.env.BUCKET.get(row.r2Key, { range: { offset: 0, length: HEADER_LENGTH } });
  if (!headObj) return null;
  const cipher = await cipherFor(s, row, new Uint8Array(await headObj.arrayBuffer()));
  if (!cipher) return null;
  checkSize(row, headObj.size, cipher.header.segmentShift);
  const size = cipher.segmentSize;
  const n = segmentCount(row.bytes, size);
  const first = Math.floor(start / size);
  const last = Math.floor(end / size);
  const offset = HEADER_LENGTH + first * (size + TAG_LENGTH);
  const length = Math.min(HEADER_LENGTH + (last + 1) * (size + TAG_LENGTH), headObj.size) - offset;
  const obj = await s.env.BUCKET.get(row.r2Key, { range: { offset, length } });
  if (!obj) return null;
  return {
    row,
    size: end - start + 1,
    stream: streamOf(decryptSegments(cipher, new ExactReader(obj.body), first, last, n - 1, row.bytes, start, end)),
  };
}

async function* decryptSegments(
  cipher: SegmentCipher,
  reader: ExactReader,
  first: number,
  last: number,
  finalIndex: number,
  plaintextBytes: number,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array> {
  const size = cipher.segmentSize;
  try {
    for (let i = first; i <= last; i++) {
      const plainLen = i === finalIndex ? plaintextBytes - i * size : size;
      const sealed = await reader.read(plainLen + TAG_LENGTH);
      if (!sealed) throw new ObjectIntegrityError(`object ends before segment ${i}`);
      const plain = await cipher.open(sealed, i, i === finalIndex);
      const from = i === first ? start - i * size : 0;
      const to = i === last ? end - i * size + 1 : plain.length;
      yield from === 0 && to === plain.length ? plain : plain.subarray(from, to);
    }
  } finally {
    await reader.cancel();
  }
}

/** Reads exact byte counts from a stream of arbitrary chunks. */
class ExactReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buffered: Uint8Array[] = [];
  private available = 0;
  private done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** Exactly n bytes, or null if the stream ends first. */
  async read(n: number): Promise<Uint8Array | null> {
    while (this.available < n && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else if (value.length) {
        this.buffered.push(value);
        this.available += value.length;
      }
    }
    if (this.available < n) return null;
    const first = this.buffered[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.buffered.shift();
      else this.buffered[0] = first.subarray(n);
      this.available -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const chunk = this.buffered[0];
      if (!chunk) break;
      const take = Math.min(chunk.length, n - o);
      out.set(chunk.subarray(0, take), o);
      o += take;
      if (take === chunk.length) this.buffered.shift();
      else this.buffered[0] = chunk.subarray(take);
    }
    this.available -= n;
    return out;
  }

  async cancel(): Promise<void> {
    if (!this.done) await this.reader.cancel().catch(() => undefined);
    this.done = true;
  }
}

/** Deletes this user's objects (R2 first, then rows); returns how many were theirs. */
export async function deleteObjects(s: Services, userId: string, objectIds: string[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < objectIds.length; i += 90) {
    const ids = objectIds.slice(i, i + 90);
    const rows = await s.db
      .select({ id: objects.id, r2Key: objects.r2Key })
      .from(objects)
      .where(and(eq(objects.userId, userId), inArray(objects.id, ids)))
      .all();
    if (!rows.length) continue;
    await s.env.BUCKET.delete(rows.map((r) => r.r2Key));
    await s.db.delete(objects).where(and(eq(objects.userId, userId), inArray(objects.id, rows.map((r) => r.id))));
    deleted += rows.length;
  }
  return deleted;
}
