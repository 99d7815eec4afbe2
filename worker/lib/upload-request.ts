/**
 * The parse step of `POST /v1/photos` (worker/routes/photos.ts): a request
 * whose headers the route's schema already checked becomes the opened photo
 * and what its headers declare, or its problem. It reads and decrypts in
 * memory and writes nothing (docs/storage-format.md §1). The checks answer in
 * this order: the declared length against the cap (413, before reading a
 * byte), the media type (415), the body's envelope framing, its opening for
 * this caller and upload id, and the optional key id header against the
 * envelope's.
 */
import { AppError } from "../errors";
import type { Result } from "./result";
import { envelopeHeadLength, openUpload, type EnvelopeFailure, type OpenUploadInput, type SplitEnvelope } from "./upload-envelope";

/** The upload headers, as the route's schema checked them. */
export interface UploadHeaders<T extends string> {
  "x-upload-id": string;
  "x-upload-content-type": T;
  "x-upload-key-id"?: string | undefined;
}

/** A sealed upload, opened for its caller. */
export interface ParsedUpload<T extends string> {
  uploadId: string;
  /** The type the client declared; the image policy checks it against the magic bytes. */
  declaredType: T;
  /** The key id inside the envelope (equal to `X-Upload-Key-Id` when that was sent). */
  keyId: string;
  /** The decrypted photo, in a buffer of its own: the image checks strip it in place. */
  bytes: Uint8Array<ArrayBuffer>;
}

export interface ParseUploadOptions {
  /** MAX_UPLOAD_BYTES: the largest envelope taken. */
  cap: number;
  /** The authenticated caller: the envelope must have been sealed for it. */
  userId: string;
  resolveKey: OpenUploadInput["resolveKey"];
}

/**
 * Parses and opens a sealed upload. Every refusal throws its problem, but for
 * an envelope that does not open for this caller (tampered, sealed for
 * someone else or another upload id, unknown key id), which is returned with
 * its reason: the route records it in the security log before answering.
 */
export async function parseUpload<T extends string>(
  req: Request,
  headers: UploadHeaders<T>,
  opts: ParseUploadOptions,
): Promise<Result<ParsedUpload<T>, EnvelopeFailure>> {
  const { cap } = opts;
  const lengthHeader = req.headers.get("content-length") ?? undefined;
  const declaredLength = lengthHeader !== undefined && /^\d{1,15}$/.test(lengthHeader) ? Number(lengthHeader) : null;
  // RFC 9110 §15.5.14: refuse by the declared length before reading a byte.
  if (declaredLength !== null && declaredLength > cap) throw new AppError("payload_too_large", `Sealed uploads are limited to ${cap} bytes.`);
  const mediaType = (req.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/octet-stream") {
    throw new AppError("unsupported_media_type", "Send the sealed upload as application/octet-stream.");
  }
  const uploadId = headers["x-upload-id"];
  // No local keeps the ciphertext, so once opened it can be collected: one copy of the photo fewer to hold.
  const opened = await openUpload({
    envelope: await readSealedBody(req, cap, declaredLength),
    userId: opts.userId,
    uploadId,
    resolveKey: opts.resolveKey,
  });
  if (!opened.ok) return opened;
  if (headers["x-upload-key-id"] !== undefined && headers["x-upload-key-id"] !== opened.value.keyId) {
    throw new AppError("invalid_envelope", "X-Upload-Key-Id does not match the key id inside the envelope.");
  }
  return { ok: true, value: { uploadId, declaredType: headers["x-upload-content-type"], keyId: opened.value.keyId, bytes: opened.value.bytes } };
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
