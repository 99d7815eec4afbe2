/**
 * The sealed-upload format: the one implementation, shared by the SPA (which
 * seals) and the Worker (which opens). Pure: only WebCrypto and @hpke/core, no
 * Worker or DOM APIs, so it runs in browsers, workerd and Node alike.
 *
 * HPKE (RFC 9180) base mode, single shot, suite DHKEM(P-256, HKDF-SHA256) /
 * HKDF-SHA256 / AES-256-GCM (ids 0x0010 / 0x0001 / 0x0002, RFC 9180 §7.1-7.3).
 * The exact bytes are specified in docs/storage-format.md §1:
 *
 *   "BPSU" | 0x01 | kem u16 | kdf u16 | aead u16 | kidLen u8 | kid | enc (65) | ct
 *
 * The associated data binds the envelope version, the upload key id, the user
 * id and the upload id, so an envelope replayed for another user, another
 * upload or under another key id fails to open (RFC 9180 §5.2, `aad`).
 * This is encryption to our processing key, not end-to-end encryption: the
 * Worker opens it because the model must see the photo.
 */
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";
import { hpkeOpen, type HpkeRecipientKey } from "./hpke-open.ts"; // .ts: Node imports this file directly (bench, examples)
import type { Result } from "./result.ts";

export const UPLOAD_ENVELOPE_VERSION = 1 as const;
/** RFC 9180 §7 registry values of the only suite version 1 allows. */
export const UPLOAD_SUITE = {
  kem: 0x0010,
  kdf: 0x0001,
  aead: 0x0002,
  name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM",
} as const;

const MAGIC = [0x42, 0x50, 0x53, 0x55] as const; // "BPSU"
/** Nenc for DHKEM(P-256): an uncompressed SEC1 point (RFC 9180 §7.1). */
export const ENC_LENGTH = 65;
/** Nt for AES-256-GCM (RFC 9180 §7.3). */
export const TAG_LENGTH = 16;
const FIXED_HEADER = 12;
/** HPKE `info`: domain separation from any other use of the same key pair. */
const INFO = new TextEncoder().encode("babypic upload v1");

export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Client-chosen, random (e.g. a UUID or 22+ base64url chars); unique per upload. */
export const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export type EnvelopeResult<T, R extends string> = Result<T, R>;

export type EnvelopeFailure =
  | "malformed" // not our format, or cut short
  | "unsupported_version"
  | "unsupported_suite"
  | "bad_binding" // user id / upload id / key id not well-formed
  | "unknown_key" // key id not in the ring (or retired)
  | "open_failed"; // tampered ciphertext, wrong associated data, or wrong key

let suiteInstance: CipherSuite | null = null;
function suite(): CipherSuite {
  suiteInstance ??= new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  return suiteInstance;
}

/** `babypic-upload|v1|<keyId>|<userId>|<uploadId>`; no field can contain `|`, so it is unambiguous. */
export function uploadAssociatedData(keyId: string, userId: string, uploadId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`babypic-upload|v${UPLOAD_ENVELOPE_VERSION}|${keyId}|${userId}|${uploadId}`) as Uint8Array<ArrayBuffer>;
}

function checkBinding(keyId: string, userId: string, uploadId: string): string | null {
  if (!KEY_ID_PATTERN.test(keyId)) return "key id must be 1-64 characters of A-Z a-z 0-9 . _ -";
  if (!USER_ID_PATTERN.test(userId)) return "user id must be 1-64 characters of A-Z a-z 0-9 _ -";
  if (!UPLOAD_ID_PATTERN.test(uploadId)) return "upload id must be 16-64 characters of A-Z a-z 0-9 _ -";
  return null;
}

export interface SealUploadInput {
  /** The public key from `GET /v1/keys/upload` (EC P-256 JWK without `d`). */
  publicJwk: JsonWebKey;
  keyId: string;
  /** Our internal user id (`GET /v1/me` -> `id`), not the identity provider's. */
  userId: string;
  uploadId: string;
  bytes: Uint8Array;
}

/** Seals a photo for `POST /v1/photos`. Throws on a malformed key or binding (a programming error). */
export async function sealUpload(input: SealUploadInput): Promise<Uint8Array<ArrayBuffer>> {
  const problem = checkBinding(input.keyId, input.userId, input.uploadId);
  if (problem) throw new Error(`sealUpload: ${problem}`);
  const { d: _d, key_ops: _ops, ...pub } = input.publicJwk;
  const s = suite();
  const recipientPublicKey = await s.kem.importKey("jwk", { ...pub, ext: true }, true);
  const sealed = await s.seal(
    { recipientPublicKey, info: INFO },
    input.bytes,
    uploadAssociatedData(input.keyId, input.userId, input.uploadId),
  );
  const kid = new TextEncoder().encode(input.keyId);
  const enc = new Uint8Array(sealed.enc);
  if (enc.length !== ENC_LENGTH) throw new Error("sealUpload: unexpected encapsulated key length");
  const ct = new Uint8Array(sealed.ct);
  const out = new Uint8Array(FIXED_HEADER + kid.length + ENC_LENGTH + ct.length);
  out.set(MAGIC, 0);
  out[4] = UPLOAD_ENVELOPE_VERSION;
  const view = new DataView(out.buffer);
  view.setUint16(5, UPLOAD_SUITE.kem);
  view.setUint16(7, UPLOAD_SUITE.kdf);
  view.setUint16(9, UPLOAD_SUITE.aead);
  out[11] = kid.length;
  out.set(kid, FIXED_HEADER);
  out.set(enc, FIXED_HEADER + kid.length);
  out.set(ct, FIXED_HEADER + kid.length + ENC_LENGTH);
  return out;
}

export interface ParsedEnvelope {
  keyId: string;
  enc: Uint8Array;
  /** Bytes before the ciphertext: 12 + key id length + 65. */
  headLength: number;
}

/** Bytes the envelope adds to the photo for a key id of `keyIdLength` characters. */
export function envelopeOverhead(keyIdLength: number): number {
  return FIXED_HEADER + keyIdLength + ENC_LENGTH + TAG_LENGTH;
}

/**
 * Length of the envelope head (everything before the ciphertext) given at least
 * its first 12 bytes, or null when those bytes cannot start an envelope. Lets a
 * reader put the ciphertext in a buffer of its own, so opening copies nothing.
 */
export function envelopeHeadLength(first: Uint8Array): number | null {
  if (first.length < FIXED_HEADER || MAGIC.some((b, i) => first[i] !== b)) return null;
  const kidLength = first[11] ?? 0;
  return kidLength === 0 ? null : FIXED_HEADER + kidLength + ENC_LENGTH;
}

/** Reads the header without any cryptography (views into `envelope`, no copies). */
export function parseUploadEnvelope(
  envelope: Uint8Array,
): EnvelopeResult<ParsedEnvelope, "malformed" | "unsupported_version" | "unsupported_suite"> {
  if (envelope.length < FIXED_HEADER || MAGIC.some((b, i) => envelope[i] !== b)) {
    return { ok: false, reason: "malformed", detail: "The body is not a BabyPic sealed upload (bad magic)." };
  }
  if (envelope[4] !== UPLOAD_ENVELOPE_VERSION) {
    return { ok: false, reason: "unsupported_version", detail: `Envelope version ${String(envelope[4])} is not supported.` };
  }
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  if (view.getUint16(5) !== UPLOAD_SUITE.kem || view.getUint16(7) !== UPLOAD_SUITE.kdf || view.getUint16(9) !== UPLOAD_SUITE.aead) {
    return { ok: false, reason: "unsupported_suite", detail: `Only the HPKE suite ${UPLOAD_SUITE.name} is accepted.` };
  }
  const headLength = envelopeHeadLength(envelope);
  if (headLength === null || envelope.length < headLength) {
    return { ok: false, reason: "malformed", detail: "The sealed upload is truncated." };
  }
  const keyId = new TextDecoder().decode(envelope.subarray(FIXED_HEADER, headLength - ENC_LENGTH));
  if (!KEY_ID_PATTERN.test(keyId)) return { ok: false, reason: "malformed", detail: "The key id in the envelope is not well-formed." };
  return { ok: true, value: { keyId, enc: envelope.subarray(headLength - ENC_LENGTH, headLength), headLength } };
}

/** An envelope read in two parts: its head, and the ciphertext in its own buffer. */
export interface SplitEnvelope {
  head: Uint8Array;
  ciphertext: ArrayBuffer;
}

/**
 * Imports an upload key from its private JWK (EC P-256 with `d`, `x`, `y`) for
 * `openUpload`: the private key, and the public point DHKEM's kem_context needs
 * (RFC 9180 §4.1), serialized once here instead of on every upload. A JWK
 * whose public point does not belong to its `d` would make every open fail;
 * WebCrypto's JWK import refuses one in workerd and Node, and each key is also
 * checked here with a one-byte message sealed by @hpke/core (the library the
 * browser seals with) and opened by `hpkeOpen`: that the two agree for this
 * key, before any upload depends on it.
 */
export async function importUploadPrivateKey(jwk: JsonWebKey): Promise<HpkeRecipientKey> {
  const { key_ops: _ops, use: _use, alg: _alg, ext: _ext, d: _d, ...pub } = jwk;
  const { key_ops: _o, use: _u, alg: _a, ext: _e, ...priv } = jwk;
  const ec = { name: "ECDH", namedCurve: "P-256" };
  const refused = new Error("upload key: not a P-256 key pair whose public point (x, y) belongs to its private key (d)");
  try {
    const publicKey = await crypto.subtle.importKey("jwk", pub, ec, true, []);
    const key: HpkeRecipientKey = {
      privateKey: await crypto.subtle.importKey("jwk", priv, ec, false, ["deriveBits"]),
      publicKeyRaw: new Uint8Array((await crypto.subtle.exportKey("raw", publicKey)) as ArrayBuffer),
    };
    const s = suite();
    const sealed = await s.seal({ recipientPublicKey: await s.kem.importKey("jwk", { ...pub, ext: true }, true), info: INFO }, new Uint8Array([0x42]));
    const opened = new Uint8Array(await hpkeOpen({ aeadId: UPLOAD_SUITE.aead, recipient: key, enc: new Uint8Array(sealed.enc), info: INFO, aad: new Uint8Array(0), ciphertext: sealed.ct }));
    if (opened.length !== 1 || opened[0] !== 0x42) throw refused;
    return key;
  } catch {
    throw refused;
  }
}

export interface OpenUploadInput {
  /** The whole envelope, or its head and ciphertext apart (avoids one copy of the photo). */
  envelope: Uint8Array | SplitEnvelope;
  /** The authenticated caller's id: the envelope must have been sealed for it. */
  userId: string;
  uploadId: string;
  /** The key for a key id (from `importUploadPrivateKey`), or null when the id is unknown or retired. */
  resolveKey: (keyId: string) => Promise<HpkeRecipientKey | null>;
}

export interface OpenedUpload {
  keyId: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Opens a sealed upload in memory. Every failure is a tagged reason; callers
 * put a generic message on the wire and the reason in their log.
 */
export async function openUpload(input: OpenUploadInput): Promise<EnvelopeResult<OpenedUpload, EnvelopeFailure>> {
  const env = input.envelope;
  const parsed = parseUploadEnvelope(env instanceof Uint8Array ? env : env.head);
  if (!parsed.ok) return parsed;
  const { keyId, enc, headLength } = parsed.value;
  let ciphertext: ArrayBuffer;
  if (env instanceof Uint8Array) {
    if (env.length < headLength + TAG_LENGTH) return { ok: false, reason: "malformed", detail: "The sealed upload is truncated." };
    ciphertext = copy(env.subarray(headLength));
  } else {
    if (env.head.length !== headLength || env.ciphertext.byteLength < TAG_LENGTH) {
      return { ok: false, reason: "malformed", detail: "The sealed upload is truncated." };
    }
    ciphertext = env.ciphertext;
  }
  const problem = checkBinding(keyId, input.userId, input.uploadId);
  if (problem) return { ok: false, reason: "bad_binding", detail: problem };
  const key = await input.resolveKey(keyId);
  if (!key) return { ok: false, reason: "unknown_key", detail: `Upload key "${keyId}" is not (or no longer) accepted; fetch GET /v1/keys/upload.` };
  try {
    const plaintext = await hpkeOpen({
      aeadId: UPLOAD_SUITE.aead,
      recipient: key,
      enc,
      info: INFO,
      aad: uploadAssociatedData(keyId, input.userId, input.uploadId),
      ciphertext,
    });
    return { ok: true, value: { keyId, bytes: new Uint8Array(plaintext) } };
  } catch {
    // RFC 9180 §5.2: OpenError covers a wrong key, wrong aad and tampering alike.
    return {
      ok: false,
      reason: "open_failed",
      detail: "The sealed upload could not be opened: it was altered, or sealed for another user, upload id or key.",
    };
  }
}

function copy(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}
