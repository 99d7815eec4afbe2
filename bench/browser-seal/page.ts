/**
 * Runs in headless Chromium (bench/browser-seal/run.mjs builds it with Vite).
 * Times the SPA's own code, web/src/lib/photo-prepare.ts and
 * worker/lib/upload-envelope.ts, on a 12 MP JPEG made in this page, against
 * two baselines measured in the same page and run:
 *   - bare resize: createImageBitmap + one drawImage to 2048 px + JPEG encode,
 *     without our checks, orientation option, background fill or sealing;
 *   - bare AES-256-GCM: one WebCrypto encrypt of the same prepared bytes (the
 *     AEAD that HPKE uses, without the KEM and key schedule).
 */
import { fitWithin, preparePhoto } from "../../web/src/lib/photo-prepare.ts";
import { sealUpload } from "../../worker/lib/upload-envelope.ts";

export interface BenchInput {
  runs: number;
  width: number;
  height: number;
}

export interface BenchResult {
  photoBytes: number;
  preparedBytes: number;
  preparedSize: string;
  sealedBytes: number;
  samples: Record<"prepare" | "seal" | "prepareSeal" | "bareResize" | "aesGcm", number[]>;
}

declare global {
  interface Window {
    runBench: (input: BenchInput) => Promise<BenchResult>;
  }
}

/** A photo-like 12 MP JPEG: gradients, soft shapes and grain (grain keeps it near a camera's 3-6 MB). */
async function makePhoto(width: number, height: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2D canvas");
  const g = ctx.createLinearGradient(0, 0, width, height);
  g.addColorStop(0, "#6a8caf");
  g.addColorStop(0.5, "#e0b49a");
  g.addColorStop(1, "#3d5a40");
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, width, height);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 400; i++) {
    ctx.fillStyle = `hsla(${Math.floor(rnd() * 360)}, 45%, ${30 + Math.floor(rnd() * 50)}%, 0.35)`;
    ctx.beginPath();
    ctx.ellipse(rnd() * width, rnd() * height, 20 + rnd() * 400, 20 + rnd() * 300, rnd() * Math.PI, 0, Math.PI * 2);
    ctx.fill();
  }
  const grain = ctx.getImageData(0, 0, width, height);
  for (let i = 0; i < grain.data.length; i += 4) {
    const n = (rnd() - 0.5) * 24;
    grain.data[i] = (grain.data[i] ?? 0) + n;
    grain.data[i + 1] = (grain.data[i + 1] ?? 0) + n;
    grain.data[i + 2] = (grain.data[i + 2] ?? 0) + n;
  }
  ctx.putImageData(grain, 0, 0);
  return canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 });
}

async function bareResize(photo: Blob): Promise<number> {
  const bitmap = await createImageBitmap(photo);
  const size = fitWithin(bitmap.width, bitmap.height);
  const canvas = new OffscreenCanvas(size.width, size.height);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2D canvas");
  ctx.drawImage(bitmap, 0, 0, size.width, size.height);
  bitmap.close();
  const out = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 });
  return (await out.arrayBuffer()).byteLength;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

window.runBench = async ({ runs, width, height }) => {
  const photo = await makePhoto(width, height);
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const publicJwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const aesKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  const seal = (bytes: Uint8Array) =>
    sealUpload({ publicJwk, keyId: "bench-1", userId: "usr_bench", uploadId: crypto.randomUUID(), bytes });

  const samples: BenchResult["samples"] = { prepare: [], seal: [], prepareSeal: [], bareResize: [], aesGcm: [] };
  let prepared = await preparePhoto(photo);
  let sealed = await seal(prepared.bytes);
  await bareResize(photo);
  // One warm-up round, then measured rounds; each round runs every measurement once, alternating order.
  for (let round = -1; round < runs; round++) {
    const order = round % 2 === 0 ? ["ours", "bare"] : ["bare", "ours"];
    for (const which of order) {
      if (which === "ours") {
        const [tPrepare, p] = await timed(() => preparePhoto(photo));
        const [tSeal, s] = await timed(() => seal(p.bytes));
        prepared = p;
        sealed = s;
        if (round >= 0) {
          samples.prepare.push(tPrepare);
          samples.seal.push(tSeal);
          samples.prepareSeal.push(tPrepare + tSeal);
        }
      } else {
        const [tResize] = await timed(() => bareResize(photo));
        const iv = crypto.getRandomValues(new Uint8Array(12));
        const [tAes] = await timed(() => crypto.subtle.encrypt({ name: "AES-GCM", iv }, aesKey, prepared.bytes));
        if (round >= 0) {
          samples.bareResize.push(tResize);
          samples.aesGcm.push(tAes);
        }
      }
    }
  }
  return {
    photoBytes: photo.size,
    preparedBytes: prepared.bytes.byteLength,
    preparedSize: `${prepared.width}x${prepared.height}`,
    sealedBytes: sealed.byteLength,
    samples,
  };
};
