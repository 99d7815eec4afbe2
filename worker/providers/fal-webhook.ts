/**
 * Fal webhook signatures. Fal signs `request_id \n user_id \n timestamp \n
 * hex(sha256(raw body))` with Ed25519 (RFC 8032) and publishes the public keys
 * as a JWKS (RFC 7517, OKP keys per RFC 8037). We verify against the raw
 * bytes, refuse timestamps more than 300 s away (replay window), and cache the
 * keys with a TTL; an unknown signature triggers at most one early refresh so
 * a key rotation is picked up without letting forgeries hammer the JWKS URL.
 * Returns a Result with a tagged reason: the wire only ever sees a generic 401.
 */
import { z } from "zod";
import { base64UrlDecode, sha256Hex, utf8 } from "../lib/bytes";
import type { WebhookFailure } from "./types";

export const WEBHOOK_TOLERANCE_SECONDS = 300;
const JWKS_TTL_MS = 60 * 60 * 1000;
const JWKS_REFRESH_MIN_MS = 30 * 1000;

const JwksSchema = z.object({
  keys: z.array(z.object({ kty: z.string(), crv: z.string().optional(), x: z.string().optional() }).loose()).max(50),
});

interface KeyCache {
  keys: CryptoKey[];
  fetchedAt: number;
}

/** Module cache: one per isolate, keyed by JWKS URL. */
const jwksCache = new Map<string, KeyCache>();

/** Forgets cached keys (tests, or an operator forcing a rotation). */
export function clearJwksCache(): void {
  jwksCache.clear();
}

async function fetchKeys(jwksUrl: string, fetcher: typeof fetch): Promise<CryptoKey[] | null> {
  try {
    const res = await fetcher(jwksUrl, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return null;
    const parsed = JwksSchema.safeParse(await res.json());
    if (!parsed.success) return null;
    const keys: CryptoKey[] = [];
    for (const jwk of parsed.data.keys) {
      if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x) continue;
      try {
        const raw = base64UrlDecode(jwk.x);
        if (raw.length !== 32) continue;
        keys.push(await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]));
      } catch {
        // A malformed key in the set must not hide the good ones.
      }
    }
    return keys;
  } catch {
    return null;
  }
}

async function keysFor(jwksUrl: string, fetcher: typeof fetch, forceRefresh: boolean): Promise<CryptoKey[] | null> {
  const hit = jwksCache.get(jwksUrl);
  const age = hit ? Date.now() - hit.fetchedAt : Infinity;
  if (hit && age < JWKS_TTL_MS && !(forceRefresh && age >= JWKS_REFRESH_MIN_MS)) return hit.keys;
  const keys = await fetchKeys(jwksUrl, fetcher);
  if (keys === null) return hit ? hit.keys : null;
  jwksCache.set(jwksUrl, { keys, fetchedAt: Date.now() });
  return keys;
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

// Newlines would make the signed message ambiguous, so no field may hold one.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const USER_ID = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^[0-9a-fA-F]{128}$/;

export type SignatureCheck = { ok: true; requestId: string; userId: string } | { ok: false; reason: WebhookFailure };

export async function verifyFalSignature(
  headers: Headers,
  rawBody: Uint8Array,
  nowMs: number,
  opts: { jwksUrl: string; fetch?: typeof fetch },
): Promise<SignatureCheck> {
  const requestId = headers.get("x-fal-webhook-request-id");
  const userId = headers.get("x-fal-webhook-user-id");
  const timestamp = headers.get("x-fal-webhook-timestamp");
  const signature = headers.get("x-fal-webhook-signature");
  if (!requestId || !userId || !timestamp || !signature) return { ok: false, reason: "missing-headers" };
  if (!REQUEST_ID.test(requestId) || !USER_ID.test(userId) || !TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) {
    return { ok: false, reason: "malformed-headers" };
  }
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) return { ok: false, reason: "stale-timestamp" };

  const message = utf8(`${requestId}\n${userId}\n${timestamp}\n${await sha256Hex(rawBody)}`);
  const sig = hexToBytes(signature);
  const fetcher = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  let tried: CryptoKey[] | null = null;
  for (const refresh of [false, true]) {
    const keys = await keysFor(opts.jwksUrl, fetcher, refresh);
    if (keys === null) return { ok: false, reason: "keys-unavailable" };
    if (keys === tried) break;
    for (const key of keys) {
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, sig, message)) return { ok: true, requestId, userId };
    }
    tried = keys;
  }
  return { ok: false, reason: "bad-signature" };
}
