/**
 * The HPKE receiver's cases (worker/lib/hpke-open.ts), run under Node
 * (test/node/hpke-open.test.ts) and inside workerd
 * (test/intake/hpke-open.test.ts): two WebCrypto implementations, one list.
 */
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";
import { describe, expect, it } from "vitest";
import { hpkeOpen, type HpkeRecipientKey } from "../worker/lib/hpke-open";
import { importUploadPrivateKey } from "../worker/lib/upload-envelope";
import { RFC9180_A31, rfcRecipientJwk } from "./fixtures/hpke-rfc9180";

const library = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });

async function freshKey(): Promise<{ key: HpkeRecipientKey; publicJwk: JsonWebKey }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const publicJwk: JsonWebKey = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
  return { key: await importUploadPrivateKey({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d }), publicJwk };
}

async function librarySeal(publicJwk: JsonWebKey, pt: Uint8Array, info: Uint8Array, aad: Uint8Array) {
  const recipientPublicKey = await library.kem.importKey("jwk", { ...publicJwk, ext: true }, true);
  const sealed = await library.seal({ recipientPublicKey, info }, pt, aad);
  return { enc: new Uint8Array(sealed.enc), ct: new Uint8Array(sealed.ct) };
}

export function hpkeOpenCases(where: string): void {
  describe(`hpkeOpen (${where}): against RFC 9180 and @hpke/core`, () => {
    it("opens RFC 9180 A.3.1 (P-256, HKDF-SHA256, AES-128-GCM, base, sequence 0) to the published plaintext", async () => {
      const v = RFC9180_A31;
      const recipient = await importUploadPrivateKey(rfcRecipientJwk());
      expect(recipient.publicKeyRaw).toEqual(v.pkRm);
      const pt = await hpkeOpen({ aeadId: 0x0001, recipient, enc: v.enc, info: v.info, aad: v.aad, ciphertext: v.ct });
      expect(new Uint8Array(pt)).toEqual(v.pt);
    });

    it("opens what @hpke/core seals with the AES-256-GCM suite, from empty to 1 MB", async () => {
      const { key, publicJwk } = await freshKey();
      const info = new TextEncoder().encode("babypic upload v1");
      for (const size of [0, 1, 15, 16, 17, 4096, 1_000_000]) {
        const pt = new Uint8Array(size);
        for (let i = 0; i < size; i += 65536) crypto.getRandomValues(pt.subarray(i, Math.min(size, i + 65536)));
        const aad = new TextEncoder().encode(`aad ${size}`);
        const { enc, ct } = await librarySeal(publicJwk, pt, info, aad);
        expect(new Uint8Array(await hpkeOpen({ aeadId: 0x0002, recipient: key, enc, info, aad, ciphertext: ct }))).toEqual(pt);
      }
    });

    it("refuses: a flipped ciphertext or tag bit, other aad, other info, another key, a foreign or invalid enc, a cut tag", async () => {
      const { key, publicJwk } = await freshKey();
      const other = await freshKey();
      const info = new TextEncoder().encode("babypic upload v1");
      const aad = new TextEncoder().encode("babypic-upload|v1|k|u|x");
      const pt = new TextEncoder().encode("a photo, in spirit");
      const { enc, ct } = await librarySeal(publicJwk, pt, info, aad);
      const open = (o: Partial<Parameters<typeof hpkeOpen>[0]>) => hpkeOpen({ aeadId: 0x0002, recipient: key, enc, info, aad, ciphertext: ct, ...o });
      expect(new Uint8Array(await open({}))).toEqual(pt);
      const flip = (b: Uint8Array, i: number) => {
        const c = b.slice();
        c[i] = (c[i] ?? 0) ^ 1;
        return c;
      };
      const foreign = await librarySeal(other.publicJwk, pt, info, aad);
      const offCurve = enc.slice();
      offCurve[64] = (offCurve[64] ?? 0) ^ 1;
      // The same point in SEC1's compressed and hybrid encodings (prefix by the parity of y): RFC 9180 §7.1.1 allows only 04 || x || y.
      const odd = (enc[64] ?? 0) & 1;
      const compressed = Uint8Array.of(0x02 + odd, ...enc.subarray(1, 33));
      const hybrid = Uint8Array.of(0x06 + odd, ...enc.subarray(1));
      // Refused as encodings, before any key agreement (they would also fail later: kem_context binds the bytes).
      for (const other of [compressed, hybrid]) await expect(open({ enc: other })).rejects.toThrow(/uncompressed P-256 point/);
      const refusals: [string, Partial<Parameters<typeof hpkeOpen>[0]>][] = [
        ["first ciphertext byte", { ciphertext: flip(ct, 0) }],
        ["last tag byte", { ciphertext: flip(ct, ct.length - 1) }],
        ["aad", { aad: flip(aad, 3) }],
        ["info", { info: new TextEncoder().encode("babypic upload v2") }],
        ["recipient", { recipient: other.key }],
        ["enc of another message", { enc: foreign.enc }],
        ["enc off the curve", { enc: offCurve }],
        ["enc cut short", { enc: enc.subarray(0, 64) }],
        ["tag cut off", { ciphertext: ct.subarray(0, ct.length - 1) }],
        ["AES-128 suite id", { aeadId: 0x0001 }],
      ];
      // A refusal, not a bug: WebCrypto's OperationError / DataError (DOMException) or our own Error, never a TypeError.
      for (const [what, change] of refusals) {
        await expect(open(change), what).rejects.toSatisfy((e: unknown) => (e instanceof Error || e instanceof DOMException) && !(e instanceof TypeError));
      }
    });
  });
}
