/**
 * Every way to tamper with an activity log that the verifiers must catch,
 * built from one intact log. Shared by the workerd suite (the shared module
 * directly) and the Node suite (`npm run audit:verify -- --export`), so both
 * verifiers face the very same cases. WebCrypto only: runs in both.
 */
import {
  bytesToBase64Url,
  checkpointMessage,
  entryHashText,
  type AuditPublicKey,
  type ChainEntry,
  type Checkpoint,
} from "../worker/lib/audit-verify";

export interface Signer {
  kid: string;
  key: CryptoKey;
}

export interface IntactLog {
  userId: string;
  /** At least 10 entries, oldest first. */
  entries: ChainEntry[];
  /** Valid checkpoints at seq 4 and at the last seq. */
  checkpoints: Checkpoint[];
  keys: AuditPublicKey[];
}

export interface TamperCase {
  name: string;
  entries: ChainEntry[];
  checkpoints: Checkpoint[];
  expect: { seq: number; reason: string };
}

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function signWith(signer: { kid: string; key: CryptoKey }, body: Omit<Checkpoint, "keyId" | "sig">, keyId = signer.kid): Promise<Checkpoint> {
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signer.key, checkpointMessage(body)));
  return { ...body, keyId, sig: bytesToBase64Url(sig) };
}

/** Rewrites entries from index `from` on with fresh links and hashes: what someone with D1 write access can do. */
export async function rehashFrom(userId: string, entries: ChainEntry[], from: number): Promise<ChainEntry[]> {
  const out = entries.map((e) => ({ ...e }));
  for (let i = from; i < out.length; i++) {
    const e = out[i];
    if (!e) continue;
    e.prevHash = i === 0 ? "0".repeat(64) : (out[i - 1]?.hash ?? "");
    e.hash = await sha256Hex(entryHashText(userId, e));
  }
  return out;
}

export async function tamperCases(log: IntactLog, signers: { current: Signer; retired: Signer; foreign: CryptoKey }): Promise<TamperCase[]> {
  const { userId, entries, checkpoints } = log;
  const n = entries.length;
  const last = checkpoints.find((c) => c.seq === n);
  const newest = entries[n - 1];
  if (n < 10 || !last || !newest) throw new Error("tamperCases needs 10+ entries and a checkpoint at the head");
  const others = checkpoints.filter((c) => c !== last);
  const six = 5;
  const edited = entries.map((e, i) => (i === six ? { ...e, action: "photo.deleted" } : e));
  const atMs = typeof newest.at === "number" ? newest.at : Date.parse(newest.at);
  const body = { userId, seq: last.seq, head: last.head, time: last.time };
  return [
    { name: "edit an entry", entries: edited, checkpoints, expect: { seq: 6, reason: "hash-mismatch" } },
    {
      name: "edit an entry and recompute every later hash (D1 write access), checkpoint rows deleted but the user's copy kept",
      entries: await rehashFrom(userId, edited, six),
      checkpoints,
      expect: { seq: 5, reason: "checkpoint-mismatch" },
    },
    { name: "delete an entry", entries: entries.filter((_, i) => i !== six), checkpoints, expect: { seq: 6, reason: "gap" } },
    {
      name: "reorder two entries",
      entries: entries.map((e, i) => (i === six ? (entries[six + 1] ?? e) : i === six + 1 ? (entries[six] ?? e) : e)),
      checkpoints,
      expect: { seq: 6, reason: "gap" },
    },
    {
      name: "swap two entries' contents keeping seq numbers",
      entries: entries.map((e, i) =>
        i === six ? { ...(entries[six + 1] ?? e), seq: e.seq } : i === six + 1 ? { ...(entries[six] ?? e), seq: e.seq } : e,
      ),
      checkpoints,
      expect: { seq: 6, reason: "broken-link" },
    },
    { name: "truncate the tail (checkpoint beyond the chain's end)", entries: entries.slice(0, n - 2), checkpoints, expect: { seq: n - 1, reason: "checkpoint-beyond-end" } },
    {
      name: "forge a checkpoint (other head, old signature)",
      entries,
      checkpoints: [...others, { ...last, head: "f".repeat(64) }],
      expect: { seq: n, reason: "bad-signature" },
    },
    {
      name: "forge a checkpoint with a key BabyPic does not hold, under the current key id",
      entries,
      checkpoints: [...others, await signWith({ kid: signers.current.kid, key: signers.foreign }, body)],
      expect: { seq: n, reason: "bad-signature" },
    },
    {
      name: "sign with a retired key after its retirement",
      entries,
      checkpoints: [...others, await signWith(signers.retired, body)],
      expect: { seq: n, reason: "key-retired" },
    },
    {
      name: "sign with an unknown key",
      entries,
      checkpoints: [...others, await signWith({ kid: "audit-unknown", key: signers.foreign }, body)],
      expect: { seq: n, reason: "unknown-key" },
    },
    {
      name: "swap the key id (signed by the current key, labelled as the retired one)",
      entries,
      checkpoints: [...others, await signWith(signers.current, body, signers.retired.kid)],
      expect: { seq: n, reason: "bad-signature" },
    },
    {
      name: "backdate a checkpoint to before the entry it covers",
      entries,
      checkpoints: [...others, await signWith(signers.current, { ...body, time: new Date(atMs - 60_000).toISOString() })],
      expect: { seq: n, reason: "checkpoint-before-entry" },
    },
  ];
}
