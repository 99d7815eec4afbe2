/**
 * The at-rest object format (docs/storage-format.md §3): a 29-byte header,
 * then the plaintext cut into fixed segments (1 MiB by default), each sealed
 * with AES-256-GCM under a per-object key.
 *
 * This is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár,
 * "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance",
 * CRYPTO 2015), laid out like Tink's AES-GCM-HKDF streaming AEAD: the nonce of
 * segment i is a random 7-byte per-object prefix || u32be(i) || final flag, so
 * a segment moved to another position, or a stream cut at a segment boundary
 * (the new last segment lacks the final flag), fails authentication. Each
 * segment's associated data repeats `v1|userId|objectId|kind` plus the index
 * and flag. Segments can be opened on their own, which is what lets exports
 * stream and files answer HTTP Range requests without decrypting everything.
 */
import { utf8 } from "../../lib/bytes";

export type ObjectKind = "photo" | "output" | "export";

export interface ObjectContext {
  userId: string;
  objectId: string;
  kind: ObjectKind;
}

export const OBJECT_MAGIC = [0x42, 0x50, 0x4f, 0x42] as const; // "BPOB"
export const OBJECT_VERSION = 1;
export const HEADER_LENGTH = 29;
export const SALT_LENGTH = 16;
export const NONCE_PREFIX_LENGTH = 7;
export const TAG_LENGTH = 16;
/**
 * log2 of the plaintext segment size for new objects: 20 = 1 MiB, the largest
 * readers accept. Each segment is one WebCrypto call, and in workerd each call
 * costs about 10 us beyond its bytes: sealing 10 MB took ~1.4x one AES-GCM
 * pass with 64 KiB segments, ~1.3x with 256 KiB and ~1.1x with 1 MiB, while
 * a Range read still decrypts at most one segment per end
 * (docs/decisions/0007). Objects written with smaller segments name their
 * size in the header and still read.
 */
export const DEFAULT_SEGMENT_SHIFT = 20;
const MIN_SHIFT = 12;
const MAX_SHIFT = 20;

export interface ObjectHeader {
  segmentShift: number;
  salt: Uint8Array;
  noncePrefix: Uint8Array;
}

export class ObjectIntegrityError extends Error {
  constructor(detail: string) {
    super(`stored object failed integrity check: ${detail}`);
    this.name = "ObjectIntegrityError";
  }
}

export function newHeader(segmentShift = DEFAULT_SEGMENT_SHIFT): ObjectHeader {
  return {
    segmentShift,
    salt: crypto.getRandomValues(new Uint8Array(SALT_LENGTH)),
    noncePrefix: crypto.getRandomValues(new Uint8Array(NONCE_PREFIX_LENGTH)),
  };
}

export function encodeHeader(h: ObjectHeader): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(HEADER_LENGTH);
  out.set(OBJECT_MAGIC, 0);
  out[4] = OBJECT_VERSION;
  out[5] = h.segmentShift;
  out.set(h.salt, 6);
  out.set(h.noncePrefix, 6 + SALT_LENGTH);
  return out;
}

export function parseHeader(b: Uint8Array): ObjectHeader {
  if (b.length < HEADER_LENGTH || OBJECT_MAGIC.some((m, i) => b[i] !== m)) throw new ObjectIntegrityError("bad magic");
  if (b[4] !== OBJECT_VERSION) throw new ObjectIntegrityError(`unknown version ${String(b[4])}`);
  const shift = b[5] ?? 0;
  if (shift < MIN_SHIFT || shift > MAX_SHIFT) throw new ObjectIntegrityError("bad segment size");
  return { segmentShift: shift, salt: b.slice(6, 6 + SALT_LENGTH), noncePrefix: b.slice(6 + SALT_LENGTH, HEADER_LENGTH) };
}

/** Number of segments for a plaintext: at least one (an empty object is one empty final segment). */
export function segmentCount(plaintextLength: number, segmentSize: number): number {
  return Math.max(1, Math.ceil(plaintextLength / segmentSize));
}

/** Stored size of a plaintext of `plaintextLength` bytes. */
export function storedLength(plaintextLength: number, segmentShift = DEFAULT_SEGMENT_SHIFT): number {
  return HEADER_LENGTH + plaintextLength + segmentCount(plaintextLength, 2 ** segmentShift) * TAG_LENGTH;
}

/** Plaintext size implied by a stored size, or null when no plaintext has that stored size. */
export function plaintextLengthOf(stored: number, segmentShift: number): number | null {
  const body = stored - HEADER_LENGTH;
  const full = 2 ** segmentShift + TAG_LENGTH;
  if (body < TAG_LENGTH) return null;
  const n = Math.ceil(body / full);
  const lastCipher = body - (n - 1) * full;
  if (lastCipher < TAG_LENGTH) return null;
  const plain = (n - 1) * 2 ** segmentShift + lastCipher - TAG_LENGTH;
  return n > 1 && lastCipher === TAG_LENGTH ? null : plain;
}

/** HKDF-SHA256 (RFC 5869) from the user's DEK to this object's AES-256-GCM key. */
export async function deriveObjectKey(dek: CryptoKey, ctx: ObjectContext, salt: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: salt.slice(), info: utf8(`babypic object key|v1|${ctx.userId}|${ctx.objectId}|${ctx.kind}`) },
    dek,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function nonce(prefix: Uint8Array, index: number, final: boolean): Uint8Array<ArrayBuffer> {
  const n = new Uint8Array(12);
  n.set(prefix, 0);
  new DataView(n.buffer).setUint32(NONCE_PREFIX_LENGTH, index);
  n[11] = final ? 1 : 0;
  return n;
}

function aad(context: Uint8Array, index: number, final: boolean): Uint8Array<ArrayBuffer> {
  const a = new Uint8Array(context.length + 5);
  a.set(context, 0);
  new DataView(a.buffer).setUint32(context.length, index);
  a[context.length + 4] = final ? 1 : 0;
  return a;
}

/** Seals and opens the segments of one object. */
export class SegmentCipher {
  private readonly context: Uint8Array;
  readonly segmentSize: number;

  private constructor(
    private readonly key: CryptoKey,
    readonly header: ObjectHeader,
    ctx: ObjectContext,
  ) {
    this.context = utf8(`v1|${ctx.userId}|${ctx.objectId}|${ctx.kind}`);
    this.segmentSize = 2 ** header.segmentShift;
  }

  static async create(dek: CryptoKey, ctx: ObjectContext, header: ObjectHeader): Promise<SegmentCipher> {
    return new SegmentCipher(await deriveObjectKey(dek, ctx, header.salt), header, ctx);
  }

  async seal(plain: Uint8Array, index: number, final: boolean): Promise<Uint8Array<ArrayBuffer>> {
    if (index > 0xffffffff) throw new Error("object too large for the segment counter");
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce(this.header.noncePrefix, index, final), additionalData: aad(this.context, index, final) },
      this.key,
      plain as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(ct);
  }

  async open(sealed: Uint8Array, index: number, final: boolean): Promise<Uint8Array<ArrayBuffer>> {
    try {
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce(this.header.noncePrefix, index, final), additionalData: aad(this.context, index, final) },
        this.key,
        sealed as Uint8Array<ArrayBuffer>,
      );
      return new Uint8Array(pt);
    } catch {
      throw new ObjectIntegrityError(`segment ${index} does not authenticate (tampered, truncated, reordered or wrong key)`);
    }
  }
}

/**
 * Encrypts a plaintext source into the stored format: yields the header, then
 * one sealed segment at a time. Holds at most one segment of plaintext plus the
 * current input chunk, so any size streams through.
 */
export async function* sealStream(
  cipher: SegmentCipher,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  counter: { plaintextBytes: number },
): AsyncGenerator<Uint8Array> {
  yield encodeHeader(cipher.header);
  const size = cipher.segmentSize;
  let pending: Uint8Array | null = null; // a full segment waiting to learn whether it is the last
  let partial = new Uint8Array(size);
  let fill = 0;
  let index = 0;
  for await (const chunk of source) {
    let off = 0;
    counter.plaintextBytes += chunk.length;
    while (off < chunk.length) {
      if (pending) {
        yield await cipher.seal(pending, index++, false);
        pending = null;
      }
      if (fill === 0 && chunk.length - off >= size) {
        pending = chunk.subarray(off, off + size);
        off += size;
        continue;
      }
      const n = Math.min(size - fill, chunk.length - off);
      partial.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === size) {
        pending = partial;
        partial = new Uint8Array(size);
        fill = 0;
      }
    }
  }
  if (pending) yield await cipher.seal(pending, index, true);
  else yield await cipher.seal(partial.subarray(0, fill), index, true);
}
