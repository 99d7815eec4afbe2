/**
 * Key hierarchy for data at rest (docs/architecture.md, docs/storage-format.md §2):
 *
 *   KEK (Worker secret MASTER_KEYS, a ring with key ids)
 *     └─ wraps each user's DEK (32 random bytes), stored at keys/<userId> in
 *        the key bucket (binding KEYS), apart from the data bucket
 *          └─ HKDF per object (segmented.ts)
 *
 * The wrapped DEK lives in its own R2 bucket (docs/decisions/0011): not in D1,
 * whose Time Travel would bring a shredded key back, and not in the data
 * bucket, whose backups (worker/services/backup.ts) would carry it. Deleting
 * keys/<userId> (crypto-shredding) makes every copy of that user's objects,
 * backups included, unreadable at once: R2 is strongly consistent.
 *
 * Key files written before 0011 sit at keys/<userId> in the data bucket
 * (BUCKET). They are moved on first read (read-through) and by the cron sweep
 * `keys.migrate`; either way the copy in the key bucket is written create-only
 * before the legacy file is deleted, so no object is ever without its key.
 */
import { z } from "zod";
import { base64Decode, base64UrlDecode, base64UrlEncode, utf8 } from "../../lib/bytes";
import { log } from "../../lib/log";
import { isBeingDeleted } from "../tombstones";
import type { Services } from "../types";

export const KEY_FILE_VERSION = 1;
export const userKeyPath = (userId: string): string => `keys/${userId}`;

const KeyFileSchema = z.object({
  v: z.literal(KEY_FILE_VERSION),
  alg: z.literal("A256GCM"),
  kek: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  iv: z.string().regex(/^[A-Za-z0-9_-]{16}$/),
  dek: z.string().regex(/^[A-Za-z0-9_-]{64}$/),
});
export type KeyFile = z.infer<typeof KeyFileSchema>;

export interface KeyRing {
  current: string;
  keys: Record<string, string>;
}

export class KeyUnavailableError extends Error {
  constructor(
    readonly reason: "unknown_kek" | "corrupt",
    detail: string,
  ) {
    super(detail);
    this.name = "KeyUnavailableError";
  }
}

/** The wrap binds the user id and KEK id, so a key file copied to another user's path does not unwrap. */
function wrapAad(userId: string, kekId: string): Uint8Array<ArrayBuffer> {
  return utf8(`babypic-dek|v${KEY_FILE_VERSION}|${userId}|${kekId}`);
}

/** KEKs come from the configuration (a secret), not from any user: imported once per ring and id in an isolate. */
const keks = new WeakMap<KeyRing, Map<string, Promise<CryptoKey>>>();

async function importKek(ring: KeyRing, kekId: string): Promise<CryptoKey | null> {
  const raw = ring.keys[kekId];
  if (!raw) return null;
  let imported = keks.get(ring);
  if (!imported) keks.set(ring, (imported = new Map()));
  const hit = imported.get(kekId);
  if (hit) return hit;
  const key = crypto.subtle.importKey("raw", base64Decode(raw), "AES-GCM", false, ["encrypt", "decrypt"]);
  imported.set(kekId, key);
  key.catch(() => imported.delete(kekId));
  return key;
}

/** Wraps a raw DEK with the ring's current KEK (AES-256-GCM, random 96-bit IV). */
export async function wrapDek(ring: KeyRing, userId: string, dek: Uint8Array): Promise<KeyFile> {
  const kek = await importKek(ring, ring.current);
  if (!kek) throw new KeyUnavailableError("unknown_kek", "current KEK id is not in the ring");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: wrapAad(userId, ring.current) }, kek, dek as Uint8Array<ArrayBuffer>);
  return { v: KEY_FILE_VERSION, alg: "A256GCM", kek: ring.current, iv: base64UrlEncode(iv), dek: base64UrlEncode(new Uint8Array(wrapped)) };
}

/** Unwraps a key file with whichever ring key it names; throws KeyUnavailableError. */
export async function unwrapDek(ring: KeyRing, userId: string, file: unknown): Promise<{ dek: Uint8Array<ArrayBuffer>; kekId: string }> {
  const parsed = KeyFileSchema.safeParse(file);
  if (!parsed.success) throw new KeyUnavailableError("corrupt", "key file is not well-formed");
  const kek = await importKek(ring, parsed.data.kek);
  if (!kek) throw new KeyUnavailableError("unknown_kek", `key file is wrapped under KEK "${parsed.data.kek}", which is not in MASTER_KEYS`);
  try {
    const dek = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64UrlDecode(parsed.data.iv), additionalData: wrapAad(userId, parsed.data.kek) },
      kek,
      base64UrlDecode(parsed.data.dek),
    );
    return { dek: new Uint8Array(dek), kekId: parsed.data.kek };
  } catch {
    throw new KeyUnavailableError("corrupt", "key file does not authenticate for this user");
  }
}

function importDek(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey", "deriveBits"]);
}

/** Unwrapped DEKs, per Services (one request or one job): shredding in another request is never masked by a cache. */
const cache = new WeakMap<Services, Map<string, Promise<CryptoKey | null>>>();

function cacheFor(s: Services): Map<string, Promise<CryptoKey | null>> {
  let m = cache.get(s);
  if (!m) {
    m = new Map();
    cache.set(s, m);
  }
  return m;
}

/** The KEK id is also R2 metadata, so a listing finds files under an old KEK without reading them. */
function keyFileMeta(file: KeyFile): Pick<R2PutOptions, "httpMetadata" | "customMetadata"> {
  return { httpMetadata: { contentType: "application/json" }, customMetadata: { kek: file.kek } };
}

function parseKeyFile(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new KeyUnavailableError("corrupt", "key file is not JSON");
  }
}

async function readKeyFile(s: Services, userId: string): Promise<{ file: unknown; etag: string } | null> {
  const obj = await s.env.KEYS.get(userKeyPath(userId));
  if (!obj) return null;
  return { file: parseKeyFile(await obj.text()), etag: obj.etag };
}

/**
 * Moves a pre-0011 key file from the data bucket into the key bucket:
 * create-only put there (a file already in the key bucket wins), then the
 * legacy file is deleted. If the account is being deleted meanwhile, the copy
 * just made is shredded again: account deletion writes its tombstone before it
 * shreds, so a move racing a shred cannot bring the key back.
 * Returns whether there was a legacy file.
 */
export async function migrateLegacyKey(s: Services, userId: string): Promise<"moved" | "none"> {
  const legacy = await s.env.BUCKET.get(userKeyPath(userId));
  if (!legacy) return "none";
  const text = await legacy.text();
  const parsed = KeyFileSchema.safeParse(parseKeyFile(text));
  const meta: R2PutOptions = parsed.success ? keyFileMeta(parsed.data) : { httpMetadata: { contentType: "application/json" } };
  await s.env.KEYS.put(userKeyPath(userId), text, { onlyIf: { etagDoesNotMatch: "*" }, ...meta });
  if (await isBeingDeleted(s, { userId })) {
    await s.env.KEYS.delete(userKeyPath(userId));
  }
  await s.env.BUCKET.delete(userKeyPath(userId));
  return "moved";
}

async function loadOrCreate(s: Services, userId: string, create: boolean): Promise<CryptoKey | null> {
  const ring = s.config.MASTER_KEYS;
  for (let attempt = 0; attempt < 3; attempt++) {
    let found = await readKeyFile(s, userId);
    if (!found && (await migrateLegacyKey(s, userId)) === "moved") found = await readKeyFile(s, userId);
    if (found) {
      const { dek, kekId } = await unwrapDek(ring, userId, found.file);
      if (kekId !== ring.current) {
        // Lazy KEK rotation: re-wrap under the current KEK, only if nobody changed the file meanwhile.
        const rewrapped = await wrapDek(ring, userId, dek);
        await s.env.KEYS.put(userKeyPath(userId), JSON.stringify(rewrapped), { onlyIf: { etagMatches: found.etag }, ...keyFileMeta(rewrapped) });
      }
      return importDek(dek);
    }
    if (!create) return null;
    const dek = crypto.getRandomValues(new Uint8Array(32));
    const file = await wrapDek(ring, userId, dek);
    // Create-only (If-None-Match: *): two first uploads racing must not leave two DEKs.
    const put = await s.env.KEYS.put(userKeyPath(userId), JSON.stringify(file), { onlyIf: { etagDoesNotMatch: "*" }, ...keyFileMeta(file) });
    if (put) return importDek(dek);
  }
  throw new Error("could not create the user's data key");
}

/**
 * The user's DEK as an HKDF base key. With `create`, one is made on first need;
 * without, null means there is none (never made, or shredded).
 */
export async function userDataKey(s: Services, userId: string, opts: { create: boolean }): Promise<CryptoKey | null> {
  const m = cacheFor(s);
  const peeked = peeks.get(s)?.get(userId);
  if (peeked && !m.has(userId)) {
    peeks.get(s)?.delete(userId);
    const key = await peeked;
    // A key file the peek found is the key; otherwise the full load below decides (legacy move, creation).
    if (key) {
      m.set(userId, peeked);
      return key;
    }
  }
  const hit = m.get(userId);
  if (hit) {
    const key = await hit;
    if (key || !opts.create) return key;
  }
  const p = loadOrCreate(s, userId, opts.create);
  m.set(userId, p);
  p.catch(() => m.delete(userId));
  return p;
}

/** Speculative loads (peekUserDataKey), per Services like `cache`. */
const peeks = new WeakMap<Services, Map<string, Promise<CryptoKey | null>>>();

/**
 * Starts reading and unwrapping the user's DEK ahead of need, for a user not
 * yet confirmed (worker/middleware/route-reads.ts): read-only, so it never
 * moves a legacy key file, re-wraps under a new KEK or creates a key; a miss
 * or a failure is left to userDataKey's full load. A later userDataKey call
 * in the same request uses what it found.
 */
export function peekUserDataKey(s: Services, userId: string): void {
  if (cacheFor(s).has(userId)) return;
  let m = peeks.get(s);
  if (!m) peeks.set(s, (m = new Map()));
  if (m.has(userId)) return;
  m.set(
    userId,
    readKeyFile(s, userId)
      .then(async (found) => (found ? importDek((await unwrapDek(s.config.MASTER_KEYS, userId, found.file)).dek) : null))
      .catch(() => null),
  );
}

/**
 * Crypto-shredding: deletes the wrapped DEK from the key bucket (and a legacy
 * pre-0011 copy in the data bucket, if one is left). Afterwards nothing of
 * this user decrypts, wherever a copy of their objects is.
 */
export async function shredUserKey(s: Services, userId: string): Promise<void> {
  cacheFor(s).delete(userId);
  peeks.get(s)?.delete(userId);
  await s.env.BUCKET.delete(userKeyPath(userId));
  await s.env.KEYS.delete(userKeyPath(userId));
}

/**
 * Re-wraps key files still under an old KEK, a page at a time, so an old KEK
 * can be retired (docs/runbooks/keys.md). Files are picked from the listing's
 * metadata; only those under another KEK are read. `stale` counts files that
 * could not be re-wrapped (their KEK is no longer in the ring, or corrupt).
 */
export async function rewrapKeys(
  s: Services,
  opts: { cursor?: string; limit?: number } = {},
): Promise<{ checked: number; rewrapped: number; stale: number; cursor: string | null }> {
  const ring = s.config.MASTER_KEYS;
  const page = await s.env.KEYS.list({ prefix: "keys/", limit: opts.limit ?? 500, include: ["customMetadata"], ...(opts.cursor ? { cursor: opts.cursor } : {}) });
  let rewrapped = 0;
  let stale = 0;
  for (const o of page.objects) {
    if (o.customMetadata?.["kek"] === ring.current) continue;
    const userId = o.key.slice("keys/".length);
    const found = await readKeyFile(s, userId).catch(() => null);
    if (!found) continue;
    try {
      const { dek, kekId } = await unwrapDek(ring, userId, found.file);
      const file = kekId === ring.current ? KeyFileSchema.parse(found.file) : await wrapDek(ring, userId, dek);
      const put = await s.env.KEYS.put(o.key, JSON.stringify(file), { onlyIf: { etagMatches: found.etag }, ...keyFileMeta(file) });
      if (put && kekId !== ring.current) rewrapped++;
    } catch {
      stale++;
    }
  }
  return { checked: page.objects.length, rewrapped, stale, cursor: page.truncated ? page.cursor : null };
}

/**
 * Cron sweep: walks the key files (listing metadata only) and re-wraps the
 * ones under an old KEK. Logs one `keys.rewrap` line per run; `complete` with
 * `stale: 0` means no key file is left under an old KEK (docs/runbooks/keys.md).
 */
export async function rewrapStaleKeys(s: Services, maxPages = 20): Promise<{ checked: number; rewrapped: number; stale: number; complete: boolean }> {
  let cursor: string | undefined;
  let checked = 0;
  let rewrapped = 0;
  let stale = 0;
  let complete = false;
  for (let i = 0; i < maxPages; i++) {
    const page = await rewrapKeys(s, cursor ? { cursor } : {});
    checked += page.checked;
    rewrapped += page.rewrapped;
    stale += page.stale;
    if (!page.cursor) {
      complete = true;
      break;
    }
    cursor = page.cursor;
  }
  log(stale ? "error" : "info", "keys.rewrap", { kek: s.config.MASTER_KEYS.current, checked, rewrapped, stale, complete });
  return { checked, rewrapped, stale, complete };
}

/**
 * Cron sweep: moves every remaining pre-0011 key file out of the data bucket
 * (`migrateLegacyKey`), up to `maxKeys` per run. Logs one `keys.migrate` line;
 * `complete: true` means the data bucket holds no `keys/` file any more
 * (docs/runbooks/keys.md).
 */
export async function migrateLegacyKeys(s: Services, maxKeys = 1000): Promise<{ moved: number; failed: number; complete: boolean }> {
  let moved = 0;
  let failed = 0;
  let cursor: string | undefined;
  let complete = false;
  while (moved + failed < maxKeys) {
    const page = await s.env.BUCKET.list({ prefix: "keys/", limit: Math.min(500, maxKeys - moved - failed), ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      try {
        if ((await migrateLegacyKey(s, o.key.slice("keys/".length))) === "moved") moved++;
      } catch {
        failed++;
      }
    }
    if (!page.truncated) {
      complete = failed === 0;
      break;
    }
    cursor = page.cursor;
  }
  log(failed ? "error" : "info", "keys.migrate", { moved, failed, complete });
  return { moved, failed, complete };
}
