/**
 * Single-use input links, for a model that only accepts image URLs (issue 4
 * §2). The default model takes data URIs and never needs these; a model in
 * providers' URL-only list gets, instead of the photo, a link to
 * `GET /v1/generation-inputs/:token` that:
 * - is an HMAC-SHA256 capability (RFC 2104) under the URL signing key ring,
 *   domain-separated from file links (`v1|generation-input|...`), compared in
 *   constant time;
 * - expires within INPUT_LINK_TTL_SECONDS (minutes) and is refused further out;
 * - works once: its nonce is recorded in `webhook_events` on first use;
 * - serves only a parent photo of that generation, owned by its user, while
 *   the generation is still in flight, looked up in D1 on every hit.
 * Refusals are one uniform answer on the wire; the reason goes to the security log.
 */
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { generations, webhookEvents } from "../db/schema";
import { base64Decode, base64UrlDecode, base64UrlEncode, timingSafeEqual, toHex, utf8 } from "../lib/bytes";
import type { Services } from "./types";
import { appendAudit } from "./audit";
import { systemReadEvent } from "./audit-reads";
import { getObject } from "./storage";
import { idPattern } from "../lib/ids";

export const INPUT_LINK_TTL_SECONDS = 300;

const Claims = z.object({
  v: z.literal(1),
  g: z.string().regex(idPattern("gen")),
  o: z.string().regex(idPattern("pho")),
  u: z.string().min(1).max(64),
  exp: z.number().int(),
  n: z.string().regex(/^[0-9a-f]{32}$/),
});
type Claims = z.infer<typeof Claims>;

export type InputRefusal = "malformed" | "unknown-kid" | "bad-signature" | "expired" | "exp-too-far" | "used" | "not-in-flight" | "not-found";

async function mac(secretB64: string, payload: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", base64Decode(secretB64), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(`v1|generation-input|${payload}`)));
}

/** A link the model can fetch once, within minutes, for one parent photo of one in-flight generation. */
export async function issueInputLink(s: Services, p: { generationId: string; userId: string; objectId: string }): Promise<string> {
  const ring = s.config.URL_SIGNING_KEYS;
  const secret = ring.keys[ring.current];
  if (secret === undefined) throw new Error("no current URL signing key");
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const claims: Claims = { v: 1, g: p.generationId, o: p.objectId, u: p.userId, exp: Math.floor(s.now() / 1000) + INPUT_LINK_TTL_SECONDS, n: nonce };
  const payload = base64UrlEncode(utf8(JSON.stringify(claims)));
  const sig = base64UrlEncode(await mac(secret, payload));
  return new URL(`/v1/generation-inputs/${ring.current}.${payload}.${sig}`, s.config.PUBLIC_API_URL).toString();
}

export type InputRedemption = { ok: true; contentType: string; bytes: Uint8Array } | { ok: false; reason: InputRefusal; userId: string | null };

/** Checks a presented token and, on success, spends it and returns the photo. */
export async function redeemInputLink(s: Services, token: string): Promise<InputRedemption> {
  const parts = token.split(".");
  const [kid, payload, sig] = parts;
  if (parts.length !== 3 || !kid || !payload || !sig || payload.length > 2000 || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return { ok: false, reason: "malformed", userId: null };
  const ring = s.config.URL_SIGNING_KEYS;
  const secret = Object.hasOwn(ring.keys, kid) ? ring.keys[kid] : undefined;
  if (secret === undefined) return { ok: false, reason: "unknown-kid", userId: null };
  if (!timingSafeEqual(await mac(secret, payload), base64UrlDecode(sig))) return { ok: false, reason: "bad-signature", userId: null };

  let claims: Claims;
  try {
    const parsed = Claims.safeParse(JSON.parse(new TextDecoder().decode(base64UrlDecode(payload))));
    if (!parsed.success) return { ok: false, reason: "malformed", userId: null };
    claims = parsed.data;
  } catch {
    return { ok: false, reason: "malformed", userId: null };
  }
  const now = Math.floor(s.now() / 1000);
  if (claims.exp <= now) return { ok: false, reason: "expired", userId: claims.u };
  if (claims.exp - now > INPUT_LINK_TTL_SECONDS) return { ok: false, reason: "exp-too-far", userId: claims.u };

  const gen = await s.db
    .select({ m: generations.motherPhotoId, f: generations.fatherPhotoId })
    .from(generations)
    .where(and(eq(generations.id, claims.g), eq(generations.userId, claims.u), inArray(generations.status, ["queued", "submitted"])))
    .get();
  if (!gen || (gen.m !== claims.o && gen.f !== claims.o)) return { ok: false, reason: "not-in-flight", userId: claims.u };

  const spent = await s.db
    .insert(webhookEvents)
    .values({ id: `generation-input:${claims.n}`, provider: "generation-input", receivedAt: s.now() })
    .onConflictDoNothing()
    .run();
  if ((spent.meta.changes ?? 0) === 0) return { ok: false, reason: "used", userId: claims.u };

  const obj = await getObject(s, claims.u, claims.o);
  if (!obj || obj.row.kind !== "photo") return { ok: false, reason: "not-found", userId: claims.u };
  await appendAudit(s.db, systemReadEvent("generation.input", claims.u, { type: "photo", id: claims.o }, { generation: claims.g }), s.now());
  return { ok: true, contentType: obj.row.contentType, bytes: obj.bytes };
}
