/**
 * HPKE (RFC 9180) receiver, base mode, single shot (the first and only
 * message, sequence number 0), for DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 /
 * AES-GCM, written straight on WebCrypto.
 *
 * Why not @hpke/core's `open`, which the browser's `seal` still uses: its
 * generic context runs about 25 WebCrypto calls per message (re-hashing the
 * constant psk_id and info, an exporter secret we never use, one HMAC key
 * import per extract and expand) and cost about 0.3 ms per upload over the
 * AES-GCM decrypt itself, a fifth of the intake budget (docs/decisions/0007).
 * Here one message is 8 calls: import pkE, ECDH, one HKDF for the shared
 * secret, two for key and nonce, import the AES key, decrypt; the constant
 * parts of the key schedule are computed once per suite and info.
 *
 * Checked against the RFC's own test vector (§A.3.1, the AES-128-GCM suite,
 * which this code also speaks for that reason) and, for the AES-256-GCM suite
 * we use, against @hpke/core in both test/node and test/intake; every upload
 * key is also checked against @hpke/core when it is imported
 * (`importUploadPrivateKey`).
 */

import { concat, toHex, utf8 } from "./bytes.ts"; // .ts: Node imports this module directly (via upload-envelope.ts)

export type HpkeAeadId = 0x0001 | 0x0002; // AES-128-GCM, AES-256-GCM (RFC 9180 §7.3)

export interface HpkeRecipientKey {
  /** The P-256 private key as a WebCrypto ECDH key with `deriveBits`. */
  privateKey: CryptoKey;
  /** SerializePublicKey(pk(skR)): the uncompressed SEC1 point, 65 bytes (RFC 9180 §7.1.1). */
  publicKeyRaw: Uint8Array;
}

export interface HpkeOpenInput {
  aeadId: HpkeAeadId;
  recipient: HpkeRecipientKey;
  enc: Uint8Array;
  info: Uint8Array;
  aad: Uint8Array;
  ciphertext: ArrayBuffer | Uint8Array;
}

const KEM_ID = 0x0010;
const KDF_ID = 0x0001;
const N_SECRET = 32;
const N_NONCE = 12;
const MODE_BASE = 0x00;

const u16 = (n: number): Uint8Array => Uint8Array.of((n >> 8) & 0xff, n & 0xff);

const HPKE_V1 = utf8("HPKE-v1");
const KEM_SUITE = concat(utf8("KEM"), u16(KEM_ID));
const hpkeSuite = (aeadId: HpkeAeadId) => concat(utf8("HPKE"), u16(KEM_ID), u16(KDF_ID), u16(aeadId));
const keySize = (aeadId: HpkeAeadId): number => (aeadId === 0x0001 ? 16 : 32);

/** RFC 9180 §4: LabeledExtract's ikm and LabeledExpand's info. */
const labeledIkm = (suite: Uint8Array, label: string, ikm: Uint8Array) => concat(HPKE_V1, suite, utf8(label), ikm);
const labeledInfo = (suite: Uint8Array, label: string, info: Uint8Array, length: number) => concat(u16(length), HPKE_V1, suite, utf8(label), info);

/**
 * LabeledExtract(salt, ...) then LabeledExpand(prk, ...) as one HKDF
 * (RFC 5869; WebCrypto does extract-then-expand). An empty salt is HashLen
 * zero bytes (RFC 5869 §2.2), which is what HMAC does with an empty key.
 */
async function hkdf(salt: Uint8Array<ArrayBuffer>, ikm: CryptoKey, info: Uint8Array<ArrayBuffer>, length: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, ikm, length * 8));
}

/**
 * WebCrypto's EcdhKeyDeriveParams. The Workers types spell the member
 * `$public` (their generator's escape for a reserved word); at run time, in
 * workerd as in browsers and Node, it is `public`.
 */
const ecdh = (publicKey: CryptoKey) => ({ name: "ECDH", public: publicKey }) as unknown as Parameters<SubtleCrypto["deriveBits"]>[0];

const hkdfKey = (ikm: Uint8Array<ArrayBuffer>) => crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);

/** LabeledExtract("", label, ikm) alone: HMAC-SHA256 keyed with HashLen zero bytes. */
async function extractOnly(ikm: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, ikm));
}

interface Schedule {
  suite: Uint8Array;
  /** key_schedule_context = mode || psk_id_hash || info_hash (RFC 9180 §5.1). */
  context: Uint8Array;
  /** LabeledExtract's ikm for `secret` with the empty psk of base mode, imported once. */
  secretIkm: CryptoKey;
}

const schedules = new Map<string, Promise<Schedule>>();

function schedule(aeadId: HpkeAeadId, info: Uint8Array): Promise<Schedule> {
  const id = `${aeadId}|${toHex(info)}`;
  let p = schedules.get(id);
  if (!p) {
    p = (async () => {
      const suite = hpkeSuite(aeadId);
      const empty = new Uint8Array(0);
      const [pskIdHash, infoHash, secretIkm] = await Promise.all([
        extractOnly(labeledIkm(suite, "psk_id_hash", empty)),
        extractOnly(labeledIkm(suite, "info_hash", info)),
        hkdfKey(labeledIkm(suite, "secret", empty)),
      ]);
      return { suite, context: concat(Uint8Array.of(MODE_BASE), pskIdHash, infoHash), secretIkm };
    })();
    schedules.set(id, p);
    p.catch(() => schedules.delete(id));
  }
  return p;
}

/**
 * Decrypts the single message of a base-mode HPKE context. Rejects (with no
 * detail worth showing anyone) on a bad `enc`, the wrong key, info or aad, or
 * any change to the ciphertext.
 */
export async function hpkeOpen(input: HpkeOpenInput): Promise<ArrayBuffer> {
  const { aeadId, recipient } = input;
  const sched = await schedule(aeadId, input.info);
  const enc = input.enc.slice();
  // SerializePublicKey is the uncompressed point only (RFC 9180 §7.1.1); WebCrypto would also take
  // compressed or hybrid encodings. DHKEM Decap (§4.1): importKey then checks the point is on P-256 (§7.1.4).
  if (enc.length !== 65 || enc[0] !== 0x04) throw new Error("hpke: enc is not an uncompressed P-256 point");
  const pkE = await crypto.subtle.importKey("raw", enc, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const dh = new Uint8Array(await crypto.subtle.deriveBits(ecdh(pkE), recipient.privateKey, 256));
  const kemContext = concat(enc, recipient.publicKeyRaw);
  const sharedSecret = await hkdf(
    new Uint8Array(0),
    await hkdfKey(labeledIkm(KEM_SUITE, "eae_prk", dh)),
    labeledInfo(KEM_SUITE, "shared_secret", kemContext, N_SECRET),
    N_SECRET,
  );
  // KeySchedule (§5.1), base mode: secret = LabeledExtract(shared_secret, "secret", psk = "").
  const nk = keySize(aeadId);
  const [key, baseNonce] = await Promise.all([
    hkdf(sharedSecret, sched.secretIkm, labeledInfo(sched.suite, "key", sched.context, nk), nk),
    hkdf(sharedSecret, sched.secretIkm, labeledInfo(sched.suite, "base_nonce", sched.context, N_NONCE), N_NONCE),
  ]);
  const aesKey = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["decrypt"]);
  // Sequence number 0: the nonce is base_nonce itself (§5.2).
  return crypto.subtle.decrypt({ name: "AES-GCM", iv: baseNonce, additionalData: input.aad.slice() }, aesKey, input.ciphertext as ArrayBuffer);
}
