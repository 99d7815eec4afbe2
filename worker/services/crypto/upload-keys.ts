/**
 * The HPKE upload key ring (secret HPKE_KEYS, `{"current":kid,"keys":{kid: P-256 private JWK}}`).
 * Only `current` is advertised; every key in the ring opens envelopes, so a
 * rotation never breaks an upload sealed just before it (docs/runbooks/keys.md).
 */
import type { Config } from "../../env";
import type { HpkeRecipientKey } from "../../lib/hpke-open";
import { importUploadPrivateKey } from "../../lib/upload-envelope";

type Ring = Config["HPKE_KEYS"];

export interface UploadPublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  use: "enc";
}

export function currentUploadPublicKey(ring: Ring): { keyId: string; jwk: UploadPublicJwk } {
  const priv = ring.keys[ring.current];
  if (!priv) throw new Error("HPKE_KEYS current key missing"); // unreachable: the config refines this
  return { keyId: ring.current, jwk: { kty: "EC", crv: "P-256", x: priv.x, y: priv.y, kid: ring.current, use: "enc" } };
}

/** Imported private keys per isolate, keyed by id and public point (a changed secret under the same id re-imports). */
const imported = new Map<string, Promise<HpkeRecipientKey>>();

/** The key for an envelope's key id, or null when the ring does not hold it (unknown or retired). */
export function uploadPrivateKey(ring: Ring, keyId: string): Promise<HpkeRecipientKey | null> {
  if (!Object.hasOwn(ring.keys, keyId)) return Promise.resolve(null);
  const jwk = ring.keys[keyId];
  if (!jwk) return Promise.resolve(null);
  const cacheKey = `${keyId}:${jwk.x}:${jwk.y}`;
  let p = imported.get(cacheKey);
  if (!p) {
    p = importUploadPrivateKey({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d });
    imported.set(cacheKey, p);
    p.catch(() => imported.delete(cacheKey));
  }
  return p;
}
