/**
 * Fresh keys for each test run, made in Node when vitest starts: nothing
 * secret is committed, and tests get the same secret shapes production has.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface TestSecrets {
  CLERK_JWT_KEY: string;
  LOCAL_IDP_PRIVATE_KEY: string;
  MASTER_KEYS: string;
  URL_SIGNING_KEYS: string;
  HPKE_KEYS: string;
  /** Ed25519 ring for audit checkpoints: a current key and one retired a day before the run. */
  AUDIT_SIGNING_KEYS: string;
  LOOKUP_HMAC_KEY: string;
  CLERK_WEBHOOK_SECRET: string;
  CREEM_WEBHOOK_SECRET: string;
  /** Locally only the fake Creem (scripts/creem-local.mjs) accepts it. */
  CREEM_API_KEY: string;
  /** Admin scope for Fal's payload deletion; locally only the fake Fal (scripts/fal-local.mjs) accepts it. */
  FAL_ADMIN_KEY: string;
}

export function makeSecrets(): TestSecrets {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const hpke = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const hpkeOld = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ed = (retiredAt?: string) => ({ ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }), ...(retiredAt ? { retiredAt } : {}) });
  const ring = (current: string, keys: Record<string, unknown>) => JSON.stringify({ current, keys });
  return {
    CLERK_JWT_KEY: rsa.publicKey.export({ type: "spki", format: "pem" }).toString(),
    LOCAL_IDP_PRIVATE_KEY: rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    MASTER_KEYS: ring("kek-test-2", { "kek-test-1": randomBytes(32).toString("base64"), "kek-test-2": randomBytes(32).toString("base64") }),
    URL_SIGNING_KEYS: ring("url-test-2", { "url-test-1": randomBytes(32).toString("base64"), "url-test-2": randomBytes(32).toString("base64") }),
    HPKE_KEYS: ring("hpke-test-2", {
      "hpke-test-1": hpkeOld.privateKey.export({ format: "jwk" }),
      "hpke-test-2": hpke.privateKey.export({ format: "jwk" }),
    }),
    AUDIT_SIGNING_KEYS: ring("audit-test-2", {
      "audit-test-1": ed(new Date(Date.now() - 86_400_000).toISOString()),
      "audit-test-2": ed(),
    }),
    LOOKUP_HMAC_KEY: randomBytes(32).toString("base64"),
    CLERK_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
    CREEM_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
    CREEM_API_KEY: `creem_test_local_${randomBytes(16).toString("hex")}`,
    FAL_ADMIN_KEY: `fal_local_admin:${randomBytes(16).toString("hex")}`,
  };
}
