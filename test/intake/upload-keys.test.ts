/**
 * The upload key ring inside workerd (worker/services/crypto/upload-keys.ts):
 * each key is imported once per isolate, and a secret whose public point does
 * not belong to its private key is refused when imported, not on every upload
 * (workerd's JWK import already refuses it; the one-byte round trip against
 * @hpke/core in importUploadPrivateKey is a second line).
 */
import { describe, expect, it } from "vitest";
import { uploadPrivateKey } from "../../worker/services/crypto/upload-keys";
import { services } from "../helpers";

async function p256Jwk(): Promise<{ kty: "EC"; crv: "P-256"; x: string; y: string; d: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  if (!jwk.x || !jwk.y || !jwk.d) throw new Error("no jwk");
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d };
}

describe("upload keys in workerd", () => {
  it("the ring's current key imports once as a pair and is reused", async () => {
    const ring = services().config.HPKE_KEYS;
    const first = uploadPrivateKey(ring, ring.current);
    const pair = await first;
    expect(pair?.privateKey.type).toBe("private");
    expect(pair?.publicKeyRaw.length).toBe(65);
    expect(uploadPrivateKey(ring, ring.current)).toBe(first);
    expect(await uploadPrivateKey(ring, "no-such-key")).toBeNull();
  });

  it("a secret with another key's public point is refused at import", async () => {
    const a = await p256Jwk();
    const b = await p256Jwk();
    const ring = { current: "mixed-1", keys: { "mixed-1": { ...a, x: b.x, y: b.y } } };
    await expect(uploadPrivateKey(ring, "mixed-1")).rejects.toThrow(/belongs to its private key/);
    const good = { current: "good-1", keys: { "good-1": a } };
    expect((await uploadPrivateKey(good, "good-1"))?.publicKeyRaw[0]).toBe(0x04);
  });
});
