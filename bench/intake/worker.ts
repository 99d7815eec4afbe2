/**
 * Bench-only Worker for bench/intake/isolated.mjs: never mounted in the app,
 * never deployed. It isolates our server-side intake processing from HTTP
 * transfer, auth, D1 and R2 by running it K times inside one request, on bytes
 * received once. Timers inside workerd only advance across I/O, so the caller
 * times whole requests from Node and subtracts an `empty` request of the same
 * body size and K.
 *
 * POST /?mode=<mode>&k=<K>, body = the bytes, received once per request:
 *   intake   body = HPKE ciphertext of a sealed upload, header `x-envelope-head`
 *            = its head (base64), as production's readSealedBody splits it.
 *            Each round: openUpload (HPKE) -> validateImage (in place, the
 *            JPEG scan data left to the sealer, as POST /v1/photos does) ->
 *            SegmentCipher.create (HKDF per object) -> sealObjectBytes (scan
 *            + encrypt per segment) into a sink that counts and drops each
 *            piece (what putObject does, minus the R2 write, the D1 row and
 *            the audit).
 *   baseline body = AES-256-GCM ciphertext of the same photo. Each round: bare
 *            WebCrypto decrypt + encrypt (`&upto=open`: decrypt only).
 *            `&upto=open` or `&upto=validate` stops each round after that stage
 *            (a per-stage breakdown); `&shift=16` seals 64 KiB segments (the
 *            default before decision 0007) instead of production's 1 MiB.
 *   empty    body of the same size; each round awaits nothing.
 * Both crypto modes reuse the received buffer every round (neither copies it),
 * and every round allocates its own plaintext and output, as a request would.
 * `mode=load&name=<n>` keeps a body in the isolate; later requests with
 * `from=<n>` and no body use it, so their timing carries no 10 MB transfer.
 */
import { openUpload, importUploadPrivateKey, type SplitEnvelope } from "../../worker/lib/upload-envelope";
import { validateImage } from "../../worker/services/image";
import { newHeader, SegmentCipher, storedLength } from "../../worker/services/crypto/segmented";
import { sealObjectBytes } from "../../worker/services/storage";

interface BenchEnv {
  /** base64 of the HPKE private JWK (JSON) the bench sealed to. */
  HPKE_PRIVATE_JWK: string;
  /** base64 raw 32-byte key: AES-256-GCM for the baseline. */
  BASE_KEY: string;
  /** base64 raw 12-byte IV the baseline ciphertext was sealed with. */
  BASE_IV: string;
  /** base64 raw 32-byte user DEK (an HKDF key, as userDataKey returns). */
  DEK: string;
}

const b64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const USER_ID = "usr_bench";
const UPLOAD_ID = "bench-upload-0000000000";

/** How far each intake round goes: for the per-stage breakdown (cumulative, so no stage needs a copy of its input). */
type Stage = "open" | "validate" | "all" | "unfused";

/** Bodies kept by `mode=load&name=...`, so timed requests carry no body (no transfer jitter in the timing). */
const kept = new Map<string, ArrayBuffer>();

async function intake(env: BenchEnv, head: Uint8Array, ciphertext: ArrayBuffer, k: number, stage: Stage, shift: number | undefined): Promise<number> {
  const hpkeKey = await importUploadPrivateKey(JSON.parse(new TextDecoder().decode(b64(env.HPKE_PRIVATE_JWK))) as JsonWebKey);
  const dek = await crypto.subtle.importKey("raw", b64(env.DEK), "HKDF", false, ["deriveKey"]);
  const envelope: SplitEnvelope = { head, ciphertext };
  let total = 0;
  for (let r = 0; r < k; r++) {
    const opened = await openUpload({ envelope, userId: USER_ID, uploadId: UPLOAD_ID, resolveKey: () => Promise.resolve(hpkeKey) });
    if (!opened.ok) throw new Error(`open failed: ${opened.reason}`);
    if (stage === "open") {
      total += opened.value.bytes.length;
      continue;
    }
    // "unfused": the JPEG scan walked inside validateImage, then a plain seal (what decision 0007 replaced).
    const image = validateImage(opened.value.bytes, "image/jpeg", { inPlace: true, deferEntropyScan: stage !== "unfused" });
    if (!image.ok) throw new Error(`image rejected: ${image.reason}`);
    if (stage === "validate") {
      total += image.value.bytes.length;
      continue;
    }
    const objectId = `pho_bench${String(r).padStart(23, "0")}`;
    const cipher = await SegmentCipher.create(dek, { userId: USER_ID, objectId, kind: "photo" }, newHeader(shift));
    const counter = { plaintextBytes: 0 };
    let sunk = 0;
    await sealObjectBytes(
      cipher,
      image.value.bytes,
      counter,
      (chunk) => {
        sunk += chunk.length;
        return Promise.resolve();
      },
      image.value.unscannedEntropy,
    );
    if (sunk !== storedLength(image.value.bytes.length, cipher.header.segmentShift)) throw new Error("sealed length mismatch");
    total += sunk;
  }
  return total;
}

async function baseline(env: BenchEnv, body: ArrayBuffer, k: number, decryptOnly: boolean): Promise<number> {
  const key = await crypto.subtle.importKey("raw", b64(env.BASE_KEY), "AES-GCM", false, ["encrypt", "decrypt"]);
  const iv = b64(env.BASE_IV);
  let total = 0;
  for (let r = 0; r < k; r++) {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, body);
    if (decryptOnly) {
      total += plain.byteLength;
      continue;
    }
    const again = await crypto.subtle.encrypt({ name: "AES-GCM", iv: crypto.getRandomValues(new Uint8Array(12)) }, key, plain);
    total += again.byteLength;
  }
  return total;
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    if (request.method !== "POST") return new Response("ok");
    const url = new URL(request.url);
    const mode = url.searchParams.get("mode");
    const k = Number(url.searchParams.get("k") ?? "1");
    const received = await request.arrayBuffer();
    if (mode === "load") {
      kept.set(url.searchParams.get("name") ?? "", received);
      return Response.json({ kept: received.byteLength });
    }
    const from = url.searchParams.get("from");
    const body = from === null ? received : kept.get(from);
    if (!body) return new Response(`nothing kept as ${from ?? ""}`, { status: 400 });
    try {
      let out = 0;
      const stage = url.searchParams.get("upto") ?? "all";
      if (stage !== "open" && stage !== "validate" && stage !== "all" && stage !== "unfused") return new Response("unknown stage", { status: 400 });
      const shiftParam = url.searchParams.get("shift");
      const shift = shiftParam ? Number(shiftParam) : undefined;
      if (mode === "intake") out = await intake(env, b64(request.headers.get("x-envelope-head") ?? ""), body, k, stage, shift);
      else if (mode === "baseline") out = await baseline(env, body, k, stage === "open");
      else if (mode === "empty") for (let r = 0; r < k; r++) out += await Promise.resolve(body.byteLength);
      else return new Response("unknown mode", { status: 400 });
      return Response.json({ mode, k, bytesIn: body.byteLength, bytesOut: out });
    } catch (err) {
      return new Response(String(err), { status: 500 });
    }
  },
};
