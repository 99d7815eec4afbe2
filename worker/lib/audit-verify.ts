/**
 * Verifies a user's activity log: the SHA-256 hash chain and the Ed25519
 * checkpoints BabyPic signed over its head (docs/audit-log.md). Pure and
 * dependency-free (WebCrypto only), so the browser (the Activity page), the
 * Worker's tests and `npm run audit:verify` (bundled for Node) run this very
 * file: one implementation of what "intact" means.
 *
 * What passing proves, and what it does not, is in docs/audit-log.md: a
 * checkpoint only helps against someone who can write D1 if a copy of it is
 * kept outside D1 (an export, the page you had open, a saved API answer).
 */

export const GENESIS_HASH = "0".repeat(64);
/** Domain-separation tag of the checkpoint signature input; a new format gets a new tag. */
export const CHECKPOINT_CONTEXT = "babypic-audit-checkpoint/v1";

/** Prefix of a value sealed under the user's data key (worker/services/crypto/fields.ts FIELD_PREFIX). */
export const SEALED_PREFIX = "bpf1.";

/**
 * ipPrefix, userAgent and detail exactly as stored in D1: sealed (`bpf1.…`)
 * or, for entries written before sealing, plain text. The hash covers these.
 */
export interface StoredFields {
  ipPrefix: string | null;
  userAgent: string | null;
  detail: string | null;
}

/**
 * One entry as hashed. `at` is Unix ms or an ISO 8601 string; `detail` the stored JSON text or its parsed object.
 * `stored`, when present (the API and the export always send it), holds the stored forms of the three personal
 * fields and is what gets hashed; the readable ipPrefix/userAgent/detail are then only checked against it where
 * the stored form is plain text (a sealed one can only be checked by decrypting it, docs/audit-log.md).
 */
export interface ChainEntry {
  seq: number;
  at: number | string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  ipPrefix: string | null;
  userAgent: string | null;
  detail: string | Record<string, unknown> | null;
  stored?: StoredFields | undefined;
  prevHash: string;
  hash: string;
}

/** `{userId, seq, head, time, keyId, sig}`: BabyPic's Ed25519 signature over a chain head. */
export interface Checkpoint {
  userId: string;
  seq: number;
  head: string;
  /** ISO 8601 as produced by Date.prototype.toISOString (the exact string is signed). */
  time: string;
  keyId: string;
  /** base64url Ed25519 signature over checkpointMessage(). */
  sig: string;
}

/** A public key of `GET /v1/audit/keys` (RFC 8037 OKP JWK plus its status). */
export interface AuditPublicKey {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  status: "current" | "retired";
  /** For a retired key: checkpoints it signed at or after this time are refused. */
  retiredAt?: string | null | undefined;
}

export type ChainReason = "gap" | "broken-link" | "hash-mismatch";
export type CheckpointReason =
  | "checkpoint-malformed"
  | "checkpoint-wrong-user"
  | "unknown-key"
  | "bad-signature"
  | "key-retired"
  | "checkpoint-beyond-end"
  | "checkpoint-mismatch"
  | "checkpoint-before-entry";

export type VerifyResult =
  | {
      ok: true;
      entries: number;
      checkpoints: number;
      /** Highest seq covered by a valid checkpoint (0 = none). */
      anchoredSeq: number;
      anchoredAt: string | null;
    }
  | {
      ok: false;
      /** The first entry that cannot be trusted. */
      seq: number;
      reason: ChainReason | CheckpointReason;
      /** For checkpoint reasons: the checkpoint that exposed it. */
      checkpoint: { seq: number; time: string; keyId: string } | null;
      entries: number;
      checkpoints: number;
    };

/** The exact text hashed for an entry (worker/services/audit.ts entryHashInput; changing it breaks every chain). */
export function entryHashText(userId: string, e: ChainEntry): string {
  const at = typeof e.at === "number" ? e.at : Date.parse(e.at);
  const detail = e.stored ? e.stored.detail : e.detail === null || typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail);
  return JSON.stringify([
    "audit-v1",
    userId,
    e.seq,
    at,
    e.actorType,
    e.actorId,
    e.action,
    e.targetType,
    e.targetId,
    e.requestId,
    e.stored ? e.stored.ipPrefix : e.ipPrefix,
    e.stored ? e.stored.userAgent : e.userAgent,
    detail,
    e.prevHash,
  ]);
}

/** The exact bytes a checkpoint signs (UTF-8): `babypic-audit-checkpoint/v1|<userId>|<seq>|<head>|<time>`. */
export function checkpointMessage(c: Pick<Checkpoint, "userId" | "seq" | "head" | "time">): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(`${CHECKPOINT_CONTEXT}|${c.userId}|${c.seq}|${c.head}|${c.time}`));
}

/** An entry as `GET /v1/account/audit` returns it, in the hashed shape. */
export interface ApiAuditEntry {
  seq: number;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  requestId: string | null;
  ipPrefix: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
  stored?: StoredFields | undefined;
  prevHash: string;
  hash: string;
}

export function fromApiEntry(e: ApiAuditEntry): ChainEntry {
  return {
    seq: e.seq,
    at: e.at,
    actorType: e.actor.type,
    actorId: e.actor.id,
    action: e.action,
    targetType: e.target?.type ?? null,
    targetId: e.target?.id ?? null,
    requestId: e.requestId,
    ipPrefix: e.ipPrefix,
    userAgent: e.userAgent,
    detail: e.detail,
    stored: e.stored,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

const isSealedValue = (v: string | null): boolean => v !== null && v.startsWith(SEALED_PREFIX);

function sameJson(stored: string, readable: string | Record<string, unknown>): boolean {
  if (typeof readable === "string") return readable === stored;
  try {
    return JSON.stringify(JSON.parse(stored)) === JSON.stringify(readable);
  } catch {
    return false;
  }
}

/**
 * Whether the readable values agree with the stored forms the hash covers,
 * as far as can be told without the user's key: a plain-text stored value
 * must equal its readable value; a sealed one is trusted to be its
 * decryption (AES-GCM with the entry and column as associated data, so a
 * value moved from elsewhere does not decrypt). A readable detail of null is
 * accepted (the API shows null for a detail it cannot present).
 */
export function readableMatchesStored(e: ChainEntry): boolean {
  const st = e.stored;
  if (!st) return true;
  if (!isSealedValue(st.ipPrefix) && e.ipPrefix !== st.ipPrefix) return false;
  if (!isSealedValue(st.userAgent) && e.userAgent !== st.userAgent) return false;
  if (!isSealedValue(st.detail) && e.detail !== null && (st.detail === null || !sameJson(st.detail, e.detail))) return false;
  return true;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

function base64UrlToBytes(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4);
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

export function bytesToBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function isCanonicalTime(t: unknown): t is string {
  if (typeof t !== "string") return false;
  const ms = Date.parse(t);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === t;
}

function wellFormed(c: Checkpoint): boolean {
  return (
    typeof c.userId === "string" &&
    Number.isSafeInteger(c.seq) &&
    c.seq >= 1 &&
    typeof c.head === "string" &&
    /^[0-9a-f]{64}$/.test(c.head) &&
    isCanonicalTime(c.time) &&
    typeof c.keyId === "string" &&
    typeof c.sig === "string"
  );
}

/** Checks one checkpoint's signature and key status, independent of any chain. */
export async function checkCheckpointSignature(
  c: Checkpoint,
  keys: readonly AuditPublicKey[],
): Promise<"ok" | "checkpoint-malformed" | "unknown-key" | "bad-signature" | "key-retired"> {
  if (!wellFormed(c)) return "checkpoint-malformed";
  const key = keys.find((k) => k.kid === c.keyId && k.kty === "OKP" && k.crv === "Ed25519");
  if (!key) return "unknown-key";
  const sig = base64UrlToBytes(c.sig);
  if (!sig || sig.length !== 64) return "bad-signature";
  let valid: boolean;
  try {
    const pub = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: key.x }, { name: "Ed25519" }, false, ["verify"]);
    valid = await crypto.subtle.verify({ name: "Ed25519" }, pub, sig, checkpointMessage(c));
  } catch {
    valid = false;
  }
  if (!valid) return "bad-signature";
  if (key.status === "retired") {
    const retiredAt = key.retiredAt ? Date.parse(key.retiredAt) : NaN;
    // A retired key without a retirement time signs nothing we accept.
    if (Number.isNaN(retiredAt) || Date.parse(c.time) >= retiredAt) return "key-retired";
  }
  return "ok";
}

/**
 * Verifies a whole log. `entries` oldest first, exactly in the order they were
 * received (reordering is one of the things this detects); `checkpoints` in
 * any order. Reports the lowest seq that cannot be trusted and why.
 */
export async function verifyAuditLog(input: {
  userId: string;
  entries: readonly ChainEntry[];
  checkpoints: readonly Checkpoint[];
  keys: readonly AuditPublicKey[];
}): Promise<VerifyResult> {
  const { userId, entries, checkpoints, keys } = input;
  type Problem = { seq: number; reason: ChainReason | CheckpointReason; checkpoint: Checkpoint | null; order: number };
  const problems: Problem[] = [];

  // 1. The chain, oldest first: the first gap, broken link or wrong hash.
  const hashAt = new Map<number, { hash: string; at: number }>();
  let prev = GENESIS_HASH;
  let expected = 1;
  for (const e of entries) {
    let reason: ChainReason | null = null;
    if (e.seq !== expected) reason = "gap";
    else if (e.prevHash !== prev) reason = "broken-link";
    else if ((await sha256Hex(entryHashText(userId, e))) !== e.hash || !readableMatchesStored(e)) reason = "hash-mismatch";
    if (reason) {
      // A gap is reported at the first missing seq, the others at the entry itself.
      problems.push({ seq: reason === "gap" ? Math.min(expected, e.seq) : e.seq, reason, checkpoint: null, order: 0 });
      break;
    }
    hashAt.set(e.seq, { hash: e.hash, at: typeof e.at === "number" ? e.at : Date.parse(e.at) });
    prev = e.hash;
    expected++;
  }
  const lastSeq = expected - 1;

  // 2. Checkpoints, lowest seq first: signature, then whether the chain matches.
  const sorted = [...checkpoints].sort((a, b) => a.seq - b.seq || Date.parse(a.time) - Date.parse(b.time));
  let matchedSeq = 0;
  let anchoredAt: string | null = null;
  for (const c of sorted) {
    const sigCheck = await checkCheckpointSignature(c, keys);
    if (sigCheck !== "ok") {
      problems.push({ seq: Number.isSafeInteger(c.seq) && c.seq >= 1 ? c.seq : 1, reason: sigCheck, checkpoint: c, order: 1 });
      break;
    }
    if (c.userId !== userId) {
      problems.push({ seq: c.seq, reason: "checkpoint-wrong-user", checkpoint: c, order: 1 });
      break;
    }
    const at = hashAt.get(c.seq);
    if (!at) {
      // Signed over entries the log no longer has: the tail was cut (or an entry lost before it).
      problems.push({ seq: lastSeq + 1, reason: "checkpoint-beyond-end", checkpoint: c, order: 1 });
      break;
    }
    if (at.hash !== c.head) {
      // Something in (last matching checkpoint, this one] was rewritten and rehashed.
      problems.push({ seq: matchedSeq + 1, reason: "checkpoint-mismatch", checkpoint: c, order: 1 });
      break;
    }
    if (Date.parse(c.time) < at.at) {
      // Signed before the entry it covers existed: a backdated signature.
      problems.push({ seq: c.seq, reason: "checkpoint-before-entry", checkpoint: c, order: 1 });
      break;
    }
    matchedSeq = c.seq;
    anchoredAt = c.time;
  }

  const first = problems.sort((a, b) => a.seq - b.seq || a.order - b.order)[0];
  if (!first) return { ok: true, entries: entries.length, checkpoints: checkpoints.length, anchoredSeq: matchedSeq, anchoredAt };
  return {
    ok: false,
    seq: first.seq,
    reason: first.reason,
    checkpoint: first.checkpoint ? { seq: first.checkpoint.seq, time: first.checkpoint.time, keyId: first.checkpoint.keyId } : null,
    entries: entries.length,
    checkpoints: checkpoints.length,
  };
}

const REASON_WORDS: Record<ChainReason | CheckpointReason, string> = {
  gap: "an entry is missing here (the numbering jumps)",
  "broken-link": "this entry does not link to the one before it (entries were removed, inserted or reordered)",
  "hash-mismatch": "this entry was changed after it was written (its fingerprint no longer matches)",
  "checkpoint-malformed": "a checkpoint is malformed",
  "checkpoint-wrong-user": "a checkpoint belongs to another account",
  "unknown-key": "a checkpoint is signed with a key BabyPic does not publish",
  "bad-signature": "a checkpoint's signature is not valid: it was forged or altered",
  "key-retired": "a checkpoint is signed with a key after BabyPic retired it",
  "checkpoint-beyond-end": "BabyPic signed entries the log no longer contains: newer entries were removed",
  "checkpoint-mismatch": "entries were rewritten after BabyPic signed them (they no longer match a signed checkpoint)",
  "checkpoint-before-entry": "a checkpoint claims to be older than the entry it covers",
};

/** The result in plain words, the same in the browser and the CLI. */
export function describeVerifyResult(r: VerifyResult): string {
  if (r.ok) {
    const anchored =
      r.anchoredSeq > 0
        ? ` BabyPic's newest signed checkpoint covers entries 1 to ${r.anchoredSeq}${r.anchoredAt ? ` (signed ${r.anchoredAt})` : ""}` +
          (r.entries > r.anchoredSeq ? `; the ${r.entries - r.anchoredSeq} newer entries are not signed yet.` : ".")
        : " No signed checkpoint covers it yet.";
    return `Intact: all ${r.entries} entries link up and all ${r.checkpoints} signed checkpoints are valid.${anchored}`;
  }
  const cp = r.checkpoint ? ` (checkpoint at entry ${r.checkpoint.seq}, signed ${r.checkpoint.time} with key ${r.checkpoint.keyId})` : "";
  return `Broken from entry ${r.seq}: ${REASON_WORDS[r.reason]}${cp}.`;
}
