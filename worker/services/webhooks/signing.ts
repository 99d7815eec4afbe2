/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, the scheme svix
 * verifies): `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`,
 * the key being the base64 after `whsec_`. Several space-separated `v1,`
 * signatures are allowed, which is how a rotated-out secret keeps verifying
 * during the overlap.
 *
 * At rest the secret is sealed with AES-256-GCM under a key derived by HKDF
 * from the current MASTER_KEYS key (`<kid>.<base64 iv||ciphertext>`), so a D1
 * backup alone never yields a usable signing secret.
 */
import type { Config } from "../../env";
import { base64Decode, base64Encode, concat, utf8 } from "../../lib/bytes";

const INFO = utf8("babypic-webhook-secret-v1");

export function generateSecret(): string {
  return `whsec_${base64Encode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

async function sealKey(secretB64: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", base64Decode(secretB64), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO }, base, { name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
}

export async function sealSecret(config: Pick<Config, "MASTER_KEYS">, secret: string): Promise<string> {
  const kid = config.MASTER_KEYS.current;
  const master = config.MASTER_KEYS.keys[kid];
  if (master === undefined) throw new Error("MASTER_KEYS has no current key");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: INFO }, await sealKey(master), utf8(secret)));
  return `${kid}.${base64Encode(concat(iv, ct))}`;
}

export async function openSecret(config: Pick<Config, "MASTER_KEYS">, sealed: string): Promise<string> {
  const dot = sealed.indexOf(".");
  const master = config.MASTER_KEYS.keys[sealed.slice(0, dot)];
  if (dot < 1 || master === undefined) throw new Error("webhook secret sealed under an unknown master key");
  const bytes = base64Decode(sealed.slice(dot + 1));
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: INFO }, await sealKey(master), bytes.slice(12));
  return new TextDecoder().decode(pt);
}

/** One `v1,<sig>` per secret, space-separated. */
export async function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Promise<string> {
  const content = utf8(`${id}.${timestampSeconds}.${body}`);
  const sigs = await Promise.all(
    secrets.map(async (secret) => {
      const raw = base64Decode(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
      const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      return `v1,${base64Encode(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)))}`;
    }),
  );
  return sigs.join(" ");
}
