/**
 * worker/lib/upload-envelope.ts outside workerd: the SPA imports it, so it
 * must work with nothing but WebCrypto (here Node's), and its bytes must be
 * exactly those documented in docs/storage-format.md §1.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { envelopeOverhead, importUploadPrivateKey, openUpload, parseUploadEnvelope, sealUpload } from "../../worker/lib/upload-envelope";

const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const privateJwk = pair.privateKey.export({ format: "jwk" }) as JsonWebKey;
const publicJwk = pair.publicKey.export({ format: "jwk" }) as JsonWebKey;
const userId = "usr_0123456789abcdef0123456789abcdef";
const uploadId = "3f1c2a9e-0b7d-4c3a-8e6f-5d4c3b2a1908";
const photo = new TextEncoder().encode("not really a photo, but bytes all the same");

async function open(envelope: Uint8Array, as = { userId, uploadId }) {
  const key = await importUploadPrivateKey(privateJwk);
  return openUpload({ envelope, ...as, resolveKey: async (kid) => (kid === "hpke-doc-1" ? key : null) });
}

describe("upload envelope outside workerd: happy path", () => {
  it("seals and opens with plain WebCrypto", async () => {
    const envelope = await sealUpload({ publicJwk, keyId: "hpke-doc-1", userId, uploadId, bytes: photo });
    const opened = await open(envelope);
    expect(opened.ok && opened.value).toEqual({ keyId: "hpke-doc-1", bytes: photo });
  });

  it("lays out the bytes as docs/storage-format.md §1 says", async () => {
    const envelope = await sealUpload({ publicJwk, keyId: "hpke-doc-1", userId, uploadId, bytes: photo });
    const kid = "hpke-doc-1";
    expect(Array.from(envelope.subarray(0, 12))).toEqual([0x42, 0x50, 0x53, 0x55, 0x01, 0x00, 0x10, 0x00, 0x01, 0x00, 0x02, kid.length]);
    expect(new TextDecoder().decode(envelope.subarray(12, 12 + kid.length))).toBe(kid);
    expect(envelope[12 + kid.length]).toBe(0x04); // uncompressed SEC1 point
    expect(envelope.length).toBe(photo.length + envelopeOverhead(kid.length));
    expect(envelopeOverhead(kid.length)).toBe(12 + kid.length + 65 + 16);
    const parsed = parseUploadEnvelope(envelope);
    expect(parsed.ok && parsed.value.headLength).toBe(12 + kid.length + 65);
  });

  it("every seal is fresh (new ephemeral key), so equal photos give unrelated envelopes", async () => {
    const a = await sealUpload({ publicJwk, keyId: "hpke-doc-1", userId, uploadId, bytes: photo });
    const b = await sealUpload({ publicJwk, keyId: "hpke-doc-1", userId, uploadId, bytes: photo });
    expect(a).not.toEqual(b);
  });
});

describe("upload envelope outside workerd: security", () => {
  it.each([
    ["another user", { userId: "usr_ffffffffffffffffffffffffffffffff", uploadId }],
    ["another upload id", { userId, uploadId: "ffffffff-0b7d-4c3a-8e6f-5d4c3b2a1908" }],
  ])("does not open for %s", async (_name, as) => {
    const envelope = await sealUpload({ publicJwk, keyId: "hpke-doc-1", userId, uploadId, bytes: photo });
    const opened = await open(envelope, as);
    expect(opened.ok).toBe(false);
    expect(!opened.ok && opened.reason).toBe("open_failed");
  });

  it("a key whose public point belongs to another private key is refused at import, not on every upload", async () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" }) as JsonWebKey;
    await expect(importUploadPrivateKey({ ...privateJwk, x: other.x, y: other.y })).rejects.toThrow(/belongs to its private key/);
    const good = await importUploadPrivateKey(privateJwk);
    expect(good.publicKeyRaw.length).toBe(65);
    expect(good.privateKey.type).toBe("private");
  });

  it("a relabelled key id is unknown, or fails to open when it names another ring key", async () => {
    const envelope = await sealUpload({ publicJwk, keyId: "hpke-doc-2", userId, uploadId, bytes: photo });
    const unknown = await open(envelope);
    expect(!unknown.ok && unknown.reason).toBe("unknown_key");
    // Same length id, rewritten in place: the aad no longer matches.
    const relabelled = envelope.slice();
    relabelled.set(new TextEncoder().encode("hpke-doc-1"), 12);
    const res = await open(relabelled);
    expect(!res.ok && res.reason).toBe("open_failed");
  });

  it("rejects other versions, suites and garbage without trying to decrypt", async () => {
    const envelope = await sealUpload({ publicJwk, keyId: "hpke-doc-1", userId, uploadId, bytes: photo });
    const v2 = envelope.slice();
    v2[4] = 2;
    expect(parseUploadEnvelope(v2)).toMatchObject({ ok: false, reason: "unsupported_version" });
    const x25519 = envelope.slice();
    x25519[6] = 0x20;
    expect(parseUploadEnvelope(x25519)).toMatchObject({ ok: false, reason: "unsupported_suite" });
    expect(parseUploadEnvelope(new Uint8Array(5))).toMatchObject({ ok: false, reason: "malformed" });
    expect(parseUploadEnvelope(envelope.subarray(0, 40))).toMatchObject({ ok: false, reason: "malformed" });
  });
});
