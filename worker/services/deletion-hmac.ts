/**
 * Keyed hashes for what outlives an account: deletion receipts and the
 * deleted-credential tombstones. HMAC-SHA256 (RFC 2104) under a key derived
 * by HKDF-SHA256 (RFC 5869) from each master key in MASTER_KEYS, with its own
 * `info`, so it is independent of the data-key wrapping. A plain SHA-256 of an
 * id or subject could be confirmed by anyone who guesses the input (a Clerk
 * subject, a local user name); without the secret these values name nobody.
 *
 * Values are written under the current master key and looked up under every
 * key in the ring, so a rotation keeps old tombstones and receipts findable
 * while the retired key stays in the ring.
 */
import type { Config } from "../env";
import { base64Decode, toHex, utf8 } from "../lib/bytes";

const INFO = utf8("babypic-deletion-hmac-v1");
const cache = new WeakMap<Config["MASTER_KEYS"], Map<string, Promise<CryptoKey>>>();

function hmacKey(ring: Config["MASTER_KEYS"], kid: string, secretB64: string): Promise<CryptoKey> {
  let perRing = cache.get(ring);
  if (!perRing) {
    perRing = new Map();
    cache.set(ring, perRing);
  }
  let key = perRing.get(kid);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", base64Decode(secretB64), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    })();
    perRing.set(kid, key);
  }
  return key;
}

async function mac(key: CryptoKey, input: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", key, utf8(input)));
}

/** What a keyed hash names; the purpose is part of the input, so values of different purposes never collide. */
export type HmacPurpose = "receipt" | "subject" | "api_key";

/** The keyed hash under the current master key (for writing). */
export async function deletionHmac(config: Pick<Config, "MASTER_KEYS">, purpose: HmacPurpose, value: string): Promise<string> {
  const ring = config.MASTER_KEYS;
  const secret = ring.keys[ring.current];
  if (secret === undefined) throw new Error("MASTER_KEYS has no current key");
  return mac(await hmacKey(ring, ring.current, secret), `${purpose}|${value}`);
}

/** The keyed hash under every master key in the ring, current first (for lookups). */
export async function deletionHmacCandidates(config: Pick<Config, "MASTER_KEYS">, purpose: HmacPurpose, value: string): Promise<string[]> {
  const ring = config.MASTER_KEYS;
  const kids = [ring.current, ...Object.keys(ring.keys).filter((k) => k !== ring.current)];
  const out: string[] = [];
  for (const kid of kids) {
    const secret = ring.keys[kid];
    if (secret !== undefined) out.push(await mac(await hmacKey(ring, kid, secret), `${purpose}|${value}`));
  }
  return out;
}
