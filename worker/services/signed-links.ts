/**
 * Signed links (docs/architecture.md): the only way image and export bytes leave the
 * Worker. A link is a capability, `GET /v1/files/:id?exp&disp&kid&sig`, where
 * `sig` = HMAC-SHA256 (RFC 2104) under the URL signing key `kid` over
 * `v1|objectId|ownerId|exp|disposition`.
 *
 * - The owner id is not in the URL: it comes from the object's D1 row, looked
 *   up on every hit, so a link only verifies while the object exists under the
 *   owner it was issued for, and deleting the object or the account revokes it
 *   at once. A link issued by a user for an id they do not own can never verify.
 * - `exp` is at most SIGNED_URL_TTL_SECONDS (<= 3600) ahead; a correctly
 *   signed link with a later `exp` is refused too, so a leaked key cannot mint
 *   long-lived links that pass.
 * - Keys form a ring: new links use `current`; any id still in the ring
 *   verifies, so rotation is "add new, make it current, remove the old one
 *   an hour later".
 * - Signatures are compared in constant time and never logged.
 */
import { eq } from "drizzle-orm";
import type { AuthContext } from "../auth/types";
import { objects, tombstones, users } from "../db/schema";
import type { Config } from "../env";
import { base64Decode, base64UrlDecode, base64UrlEncode, timingSafeEqual, utf8 } from "../lib/bytes";
import type { RequestMeta } from "../lib/request-meta";
import { appendAudit, auditActor, type AuditEvent } from "./audit";
import type { Services } from "./types";
import type { Check } from "../lib/result";

export const DISPOSITIONS = ["inline", "attachment"] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** docs/architecture.md: a link never lives longer than one hour. */
export const MAX_LINK_TTL_SECONDS = 3600;

export interface LinkClaims {
  objectId: string;
  ownerId: string;
  /** Unix seconds. */
  exp: number;
  disposition: Disposition;
}

export type SigningKeyRing = Config["URL_SIGNING_KEYS"];

/** The exact bytes that are MACed; changing this invalidates every live link. */
export function linkSigningInput(c: LinkClaims): string {
  return `v1|${c.objectId}|${c.ownerId}|${c.exp}|${c.disposition}`;
}

// Importing a raw key costs more than the HMAC itself; cache per key value.
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secretBase64: string): Promise<CryptoKey> {
  let key = keyCache.get(secretBase64);
  if (!key) {
    key = crypto.subtle.importKey("raw", base64Decode(secretBase64), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keyCache.set(secretBase64, key);
  }
  return key;
}

async function mac(secretBase64: string, claims: LinkClaims): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secretBase64), utf8(linkSigningInput(claims))));
}

/** Signs with the ring's current key (or `kid`, for tests of rotation). */
export async function signLink(ring: SigningKeyRing, claims: LinkClaims, kid: string = ring.current): Promise<{ kid: string; sig: string }> {
  const secret = ring.keys[kid];
  if (secret === undefined) throw new Error(`unknown signing key id ${kid}`);
  return { kid, sig: base64UrlEncode(await mac(secret, claims)) };
}

export type LinkRefusal = "malformed" | "expired" | "exp-too-far" | "unknown-kid" | "bad-signature" | "not-found" | "owner-deleted";
export type LinkCheck = Check<LinkRefusal>;

const SIG = /^[A-Za-z0-9_-]{43}$/;

/**
 * Pure check of a link against claims taken from the server's own row. The
 * MAC is compared with a constant-time loop (a short-circuiting compare would
 * let a client find a valid tag byte by byte from response timing).
 */
export async function verifyLink(
  ring: SigningKeyRing,
  claims: LinkClaims,
  kid: string,
  sig: string,
  nowSeconds: number,
  maxTtlSeconds: number,
): Promise<LinkCheck> {
  if (!Number.isSafeInteger(claims.exp) || !SIG.test(sig)) return { ok: false, reason: "malformed" };
  if (claims.exp <= nowSeconds) return { ok: false, reason: "expired" };
  if (claims.exp - nowSeconds > Math.min(maxTtlSeconds, MAX_LINK_TTL_SECONDS)) return { ok: false, reason: "exp-too-far" };
  const secret = Object.hasOwn(ring.keys, kid) ? ring.keys[kid] : undefined;
  if (secret === undefined) return { ok: false, reason: "unknown-kid" };
  const expected = await mac(secret, claims);
  return timingSafeEqual(expected, base64UrlDecode(sig)) ? { ok: true } : { ok: false, reason: "bad-signature" };
}

/** What a verified link may serve, from the object's row. */
export interface LinkedObject {
  id: string;
  ownerId: string;
  kind: "photo" | "output" | "export";
  contentType: string;
  bytes: number;
}

export interface PresentedLink {
  objectId: string;
  exp: number;
  disposition: Disposition;
  kid: string;
  sig: string;
}

export type ResolvedLink = { ok: true; object: LinkedObject } | { ok: false; reason: LinkRefusal; ownerId: string | null };

/**
 * Verifies a presented link against D1, on every hit: the object must exist,
 * its owner must exist and not be mid-deletion (a tombstone), and it must not
 * be past its retention time. When there is no row the MAC is still computed
 * (against a placeholder owner) so "no such object" costs the same as "bad
 * signature" and timing does not reveal which ids exist.
 */
export async function resolveSignedLink(s: Services, link: PresentedLink): Promise<ResolvedLink> {
  const row = await s.db
    .select({
      id: objects.id,
      ownerId: objects.userId,
      kind: objects.kind,
      contentType: objects.contentType,
      bytes: objects.bytes,
      expiresAt: objects.expiresAt,
      ownerExists: users.id,
      deleting: tombstones.userId,
    })
    .from(objects)
    .leftJoin(users, eq(users.id, objects.userId))
    .leftJoin(tombstones, eq(tombstones.userId, objects.userId))
    .where(eq(objects.id, link.objectId))
    .get();
  const nowMs = s.now();
  const claims: LinkClaims = {
    objectId: link.objectId,
    ownerId: row?.ownerId ?? "usr_none",
    exp: link.exp,
    disposition: link.disposition,
  };
  const check = await verifyLink(s.config.URL_SIGNING_KEYS, claims, link.kid, link.sig, Math.floor(nowMs / 1000), s.config.SIGNED_URL_TTL_SECONDS);
  if (!row) return { ok: false, reason: check.ok || check.reason === "bad-signature" ? "not-found" : check.reason, ownerId: null };
  if (!check.ok) return { ok: false, reason: check.reason, ownerId: row.ownerId };
  if (row.ownerExists === null || row.deleting !== null) return { ok: false, reason: "owner-deleted", ownerId: row.ownerId };
  if (row.expiresAt !== null && row.expiresAt <= nowMs) return { ok: false, reason: "not-found", ownerId: row.ownerId };
  return { ok: true, object: { id: row.id, ownerId: row.ownerId, kind: row.kind, contentType: row.contentType, bytes: row.bytes } };
}

export interface SignedUrl {
  url: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** Builds a link for an object owned by `ownerId`; no audit (callers audit). */
export async function signedUrlFor(
  s: Pick<Services, "config" | "now">,
  opts: { objectId: string; ownerId: string; disposition?: Disposition; ttlSeconds?: number },
): Promise<SignedUrl> {
  const ttl = Math.min(opts.ttlSeconds ?? s.config.SIGNED_URL_TTL_SECONDS, s.config.SIGNED_URL_TTL_SECONDS, MAX_LINK_TTL_SECONDS);
  const exp = Math.floor(s.now() / 1000) + ttl;
  const disposition = opts.disposition ?? "inline";
  const { kid, sig } = await signLink(s.config.URL_SIGNING_KEYS, { objectId: opts.objectId, ownerId: opts.ownerId, exp, disposition });
  const url = new URL(`/v1/files/${encodeURIComponent(opts.objectId)}`, s.config.PUBLIC_API_URL);
  url.search = new URLSearchParams({ exp: String(exp), disp: disposition, kid, sig }).toString();
  return { url: url.toString(), expiresAt: new Date(exp * 1000).toISOString() };
}

export interface IssueOptions {
  auth: AuthContext;
  objectId: string;
  disposition?: Disposition;
  meta: RequestMeta;
}

/**
 * Issues a link for the caller's own object and appends `link.issued` to
 * their audit log. The MAC binds `auth.userId` as owner, so passing someone
 * else's object id yields a link that can never verify.
 */
export async function issueSignedUrl(s: Services, opts: IssueOptions): Promise<SignedUrl> {
  const [first] = await issueSignedUrls(s, { auth: opts.auth, objectIds: [opts.objectId], disposition: opts.disposition, meta: opts.meta });
  if (!first) throw new Error("no link issued");
  return first;
}

/**
 * Signs links for several of the caller's objects (a gallery page) and
 * returns them with the one `link.issued` audit event that lists them
 * (instead of one per image). No D1 access: the caller already holds the
 * owner-scoped rows and must append `event` (appendAuditMany, together with
 * its own events) before answering.
 */
export async function signLinksFor(
  s: Pick<Services, "config" | "now">,
  opts: { auth: AuthContext; objectIds: readonly string[]; disposition?: Disposition | undefined; meta: RequestMeta },
): Promise<{ urls: SignedUrl[]; event: AuditEvent | null }> {
  if (opts.objectIds.length === 0) return { urls: [], event: null };
  const disposition = opts.disposition ?? "inline";
  const urls = await Promise.all(opts.objectIds.map((objectId) => signedUrlFor(s, { objectId, ownerId: opts.auth.userId, disposition })));
  const [firstId] = opts.objectIds;
  return {
    urls,
    event: {
      userId: opts.auth.userId,
      actor: auditActor(opts.auth),
      action: "link.issued",
      target: opts.objectIds.length === 1 && firstId ? { type: "object", id: firstId } : { type: "objects", id: opts.objectIds.join(",").slice(0, 2000) },
      detail: { disposition, count: opts.objectIds.length, expiresAt: urls[0]?.expiresAt ?? null },
      meta: opts.meta,
    },
  };
}

/** Issues links for several of the caller's objects and appends their `link.issued` entry. */
export async function issueSignedUrls(
  s: Services,
  opts: { auth: AuthContext; objectIds: readonly string[]; disposition?: Disposition | undefined; meta: RequestMeta },
): Promise<SignedUrl[]> {
  const { urls, event } = await signLinksFor(s, opts);
  if (event) await appendAudit(s.db, event, s.now());
  return urls;
}
