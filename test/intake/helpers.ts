/** Helpers for the intake suites: seal like the SPA does, post, and look at what R2 and D1 hold. */
import { env } from "cloudflare:test";
import { count } from "drizzle-orm";
import { expect } from "vitest";
import { objects } from "../../worker/db/schema";
import { base64Decode } from "../../worker/lib/bytes";
import { sealUpload } from "../../worker/lib/upload-envelope";
import { api, json, services, signIn } from "../helpers";

export const bytesOf = (b64: string): Uint8Array => base64Decode(b64);

/** A photo as /v1/photos returns it (upload, read, list). */
export interface PhotoBody {
  id: string;
  width: number;
  height: number;
  bytes: number;
  contentType: string;
  createdAt: string;
  expiresAt: string | null;
}

export interface UploadKeyBody {
  keyId: string;
  publicKey: JsonWebKey;
  maxUploadBytes: number;
}

export async function uploadKey(): Promise<UploadKeyBody> {
  const res = await api("/v1/keys/upload");
  expect(res.status).toBe(200);
  return json<UploadKeyBody>(res);
}

/** The public half of a ring key, as the SPA would have received it when that key was current. */
export function ringPublicKey(keyId: string): JsonWebKey {
  const ring = JSON.parse(env.HPKE_KEYS ?? "{}") as { keys: Record<string, JsonWebKey> };
  const jwk = ring.keys[keyId];
  if (!jwk) throw new Error(`no ring key ${keyId}`);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

let counter = 0;
export function newUploadId(): string {
  counter++;
  return `${crypto.randomUUID()}-${counter}`;
}

export interface Sealed {
  envelope: Uint8Array;
  uploadId: string;
  keyId: string;
}

/** Seals `bytes` for `userId` (internal id) exactly as the browser does. */
export async function seal(userId: string, bytes: Uint8Array, opts: { keyId?: string; publicJwk?: JsonWebKey; uploadId?: string } = {}): Promise<Sealed> {
  const key = opts.keyId && opts.publicJwk ? { keyId: opts.keyId, publicKey: opts.publicJwk } : await uploadKey();
  const uploadId = opts.uploadId ?? newUploadId();
  const envelope = await sealUpload({ publicJwk: key.publicKey, keyId: key.keyId, userId, uploadId, bytes });
  return { envelope, uploadId, keyId: key.keyId };
}

export async function post(
  user: string,
  body: BodyInit | null,
  opts: { uploadId: string; type?: string; headers?: Record<string, string> },
): Promise<Response> {
  return api("/v1/photos", {
    method: "POST",
    user,
    body,
    headers: {
      "content-type": "application/octet-stream",
      "x-upload-id": opts.uploadId,
      "x-upload-content-type": opts.type ?? "image/jpeg",
      ...opts.headers,
    },
  });
}

/** Signs in, seals and uploads; returns the response and what was sent. */
export async function upload(user: string, bytes: Uint8Array, type = "image/jpeg"): Promise<{ res: Response; sealed: Sealed; userId: string }> {
  const userId = await signIn(user);
  const sealed = await seal(userId, bytes);
  return { res: await post(user, sealed.envelope, { uploadId: sealed.uploadId, type }), sealed, userId };
}

/** Every object in the bucket, with its bytes. */
export async function r2Contents(bucket: R2Bucket = env.BUCKET): Promise<{ key: string; bytes: Uint8Array }[]> {
  const out: { key: string; bytes: Uint8Array }[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list(cursor ? { cursor } : {});
    for (const o of page.objects) {
      const got = await bucket.get(o.key);
      if (got) out.push({ key: o.key, bytes: new Uint8Array(await got.arrayBuffer()) });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

export async function r2Keys(): Promise<string[]> {
  return (await r2Contents()).map((o) => o.key).sort();
}

export async function objectRows(): Promise<number> {
  return (await services().db.select({ n: count() }).from(objects).get())?.n ?? 0;
}

/** Index of `needle` in `hay`, or -1. */
export function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  if (!needle.length) return 0;
  const first = needle[0] ?? 0;
  for (let i = hay.indexOf(first); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    let ok = true;
    for (let j = 1; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return i;
  }
  return -1;
}

export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A JPEG marker segment: 0xFF, the marker, the big-endian length (body + 2), then the body. */
export function jpegSegment(marker: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out.set([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff], 0);
  out.set(body, 4);
  return out;
}
