/**
 * The face check's Web Worker (issue 20, decision 0017). Loaded only by the
 * Create page (check.ts starts it on the first photo), so the landing page's
 * JavaScript does not grow. It loads @vladmandic/face-api's tiny face
 * detector and 68-point landmark model on the tfjs WebAssembly backend, all
 * from this app's own origin (Vite's hashed /assets/ files, cached for a year),
 * and answers each photo with the faces it found: nothing leaves the device.
 *
 * WebAssembly needs `'wasm-unsafe-eval'` in the CSP's script-src (web/headers.ts):
 * without it tfjs would silently fall back to WebGL, 10-25x slower where the GPU is
 * emulated, so this worker refuses any backend but "wasm" rather than fall back.
 */
import * as faceapi from "@vladmandic/face-api";
import landmarkManifest from "@vladmandic/face-api/model/face_landmark_68_model-weights_manifest.json";
import landmarkBin from "@vladmandic/face-api/model/face_landmark_68_model.bin?url";
import detectorManifest from "@vladmandic/face-api/model/tiny_face_detector_model-weights_manifest.json";
import detectorBin from "@vladmandic/face-api/model/tiny_face_detector_model.bin?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import { jpegSize } from "../../lib/jpeg-size";
import { decodeEighths, scaledSize } from "./decode-size";
import { DETECT_SIDE, type Box, type DetectedFace, type FaceReport } from "./rules";

export type WorkerRequest = { id: number; image: Blob } | { id: number; warmup: true };
/**
 * `picture` is the photo as decoded for the check (docs/decisions/0024: short side 1500 px or more, or the
 * whole photo), transferred to the page, which cuts the crop that is sent from it: no second decode.
 */
export type WorkerResponse =
  | { id: number; report: FaceReport; picture: ImageBitmap }
  | { id: number; ready: { backend: string; loadMs: number } }
  | { id: number; error: string };

interface WasmTf {
  setWasmPaths(paths: Record<string, string>): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  io: { decodeWeights(data: ArrayBuffer, specs: unknown): Record<string, unknown> };
  browser: { fromPixels(pixels: ImageData): unknown };
  dispose(t: unknown): void;
}
const tf = faceapi.tf as unknown as WasmTf;

interface Manifest {
  weights: unknown;
}
interface Point {
  x: number;
  y: number;
}
interface Detection {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: Point[] };
}
interface Nets {
  tinyFaceDetector: { loadFromWeightMap(map: unknown): void };
  faceLandmark68Net: { loadFromWeightMap(map: unknown): void };
}
type DetectFn = (input: unknown, options: unknown) => { withFaceLandmarks(): Promise<Detection[]> };

const scope = self as unknown as {
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
};

async function weights(url: string, manifest: Manifest[]): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`model file answered ${res.status}`);
  return tf.io.decodeWeights(await res.arrayBuffer(), manifest[0]?.weights);
}

let loading: Promise<{ backend: string; loadMs: number }> | null = null;

function load(): Promise<{ backend: string; loadMs: number }> {
  loading ??= (async () => {
    const t0 = performance.now();
    // face-api's environment is for windows; a worker has OffscreenCanvas and ImageData only. We pass tensors.
    faceapi.env.setEnv({
      Canvas: OffscreenCanvas,
      CanvasRenderingContext2D: OffscreenCanvasRenderingContext2D,
      Image: OffscreenCanvas,
      ImageData,
      Video: OffscreenCanvas,
      createCanvasElement: () => new OffscreenCanvas(1, 1),
      createImageElement: () => new OffscreenCanvas(1, 1),
      createVideoElement: () => new OffscreenCanvas(1, 1),
      fetch: (url: string, init?: RequestInit) => fetch(url, init),
      readFile: () => Promise.reject(new Error("no file system in the browser")),
    } as unknown as Parameters<typeof faceapi.env.setEnv>[0]);
    tf.setWasmPaths({
      "tfjs-backend-wasm.wasm": wasmPlain,
      "tfjs-backend-wasm-simd.wasm": wasmSimd,
      "tfjs-backend-wasm-threaded-simd.wasm": wasmSimd,
    });
    const ok = await tf.setBackend("wasm");
    await tf.ready();
    const backend = tf.getBackend();
    if (!ok || backend !== "wasm") throw new Error(`the WebAssembly backend did not start (got ${backend})`);
    // Read by the browser tests (test/e2e/face-check.test.mjs) to prove the backend that really runs.
    (self as unknown as { faceCheckBackend: string }).faceCheckBackend = backend;
    const nets = faceapi.nets as unknown as Nets;
    const [det, marks] = await Promise.all([
      weights(detectorBin, detectorManifest as Manifest[]),
      weights(landmarkBin, landmarkManifest as Manifest[]),
    ]);
    nets.tinyFaceDetector.loadFromWeightMap(det);
    nets.faceLandmark68Net.loadFromWeightMap(marks);
    return { backend, loadMs: performance.now() - t0 };
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** Grey levels of `region` of `source`, drawn at size × size. */
function grey(source: ImageBitmap, region: { x: number; y: number; width: number; height: number }, size: number): Float32Array {
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2D canvas in the worker");
  ctx.drawImage(source, region.x, region.y, region.width, region.height, 0, 0, size, size);
  const px = ctx.getImageData(0, 0, size, size).data;
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++)
    out[i] = (0.299 * (px[i * 4] ?? 0) + 0.587 * (px[i * 4 + 1] ?? 0) + 0.114 * (px[i * 4 + 2] ?? 0)) / 255;
  return out;
}

/**
 * Sharpness: variance of the 4-neighbour Laplacian over the central part of the face (eyes, nose, mouth),
 * drawn at 128 px so the figure does not depend on the face's size, divided by the region's grey variance
 * so dim or low-contrast but sharp photos are not called blurred.
 */
function sharpness(source: ImageBitmap, box: DetectedFace["box"]): number {
  const size = 128;
  const inner = { x: box.x + box.width * 0.15, y: box.y + box.height * 0.15, width: box.width * 0.7, height: box.height * 0.7 };
  const g = grey(source, inner, size);
  let sum = 0;
  let sum2 = 0;
  let lsum = 0;
  let lsum2 = 0;
  let n = 0;
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const c = g[y * size + x] ?? 0;
      const lap =
        (g[y * size + x - 1] ?? 0) + (g[y * size + x + 1] ?? 0) + (g[(y - 1) * size + x] ?? 0) + (g[(y + 1) * size + x] ?? 0) - 4 * c;
      sum += c;
      sum2 += c * c;
      lsum += lap;
      lsum2 += lap * lap;
      n++;
    }
  }
  const variance = sum2 / n - (sum / n) ** 2;
  const lapVariance = lsum2 / n - (lsum / n) ** 2;
  return variance > 0 ? lapVariance / variance : 0;
}

/** 0 when the nose tip is midway between the jaw's ends, 1 when it reaches one of them (a profile). */
function yaw(points: Point[]): number {
  const left = points[0];
  const right = points[16];
  const nose = points[30];
  if (!left || !right || !nose || right.x === left.x) return 1;
  const r = (nose.x - left.x) / (right.x - left.x);
  return Math.min(1, Math.abs(r - 0.5) * 2);
}

/** Enough of a JPEG to reach its frame header past EXIF and ICC segments (64 KB each at most). */
const HEAD_BYTES = 256 * 1024;

/** The photo decoded with its EXIF orientation, and its size on screen at full resolution. */
interface Decoded {
  bitmap: ImageBitmap;
  width: number;
  height: number;
}

/**
 * Decodes `image` at reduced size in one step where the browser can (decision 0024): the JPEG's size from
 * its header, then WebCodecs' ImageDecoder asked for the eighths that keep the short side at 1500 px or
 * more, which decodes at that size (DCT scaling) instead of decoding 12 MP and scaling them down. Elsewhere
 * (no ImageDecoder, not a JPEG) the full decode, scaled to the same size so the rest works the same.
 */
async function decode(image: Blob): Promise<Decoded> {
  const coded = jpegSize(new Uint8Array(await image.slice(0, HEAD_BYTES).arrayBuffer()));
  if (coded && decodeEighths(coded.width, coded.height) < 8 && typeof ImageDecoder !== "undefined") {
    const want = scaledSize(coded.width, coded.height, decodeEighths(coded.width, coded.height));
    try {
      const decoder = new ImageDecoder({ data: image.stream(), type: "image/jpeg", desiredWidth: want.width, desiredHeight: want.height });
      let bitmap: ImageBitmap;
      try {
        const { image: frame } = await decoder.decode();
        try {
          bitmap = await createImageBitmap(frame); // applies the EXIF orientation the frame carries
        } finally {
          frame.close();
        }
      } finally {
        decoder.close();
      }
      // The coded size is before orientation: a portrait shot stored sideways (EXIF 6 or 8) swaps it.
      const same = bitmap.width >= bitmap.height === coded.width >= coded.height;
      return { bitmap, width: same ? coded.width : coded.height, height: same ? coded.height : coded.width };
    } catch {
      // ImageDecoder refused this file: the full decode below says whether the browser can open it at all.
    }
  }
  const full = await createImageBitmap(image, { imageOrientation: "from-image" });
  const { width, height } = full;
  const eighths = decodeEighths(width, height);
  if (eighths === 8) return { bitmap: full, width, height };
  try {
    const size = scaledSize(width, height, eighths);
    const bitmap = await createImageBitmap(full, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: "high" });
    return { bitmap, width, height };
  } finally {
    full.close();
  }
}

/** `box` (photo px) in the decoded bitmap's px. */
const inBitmap = (box: Box, d: Decoded): Box => {
  const sx = d.bitmap.width / d.width;
  const sy = d.bitmap.height / d.height;
  return { x: box.x * sx, y: box.y * sy, width: box.width * sx, height: box.height * sy };
};

async function check(image: Blob): Promise<{ report: FaceReport; picture: ImageBitmap }> {
  const t0 = performance.now();
  // The photo decodes (off this thread, in the browser's image decoder) while
  // the first check's models load: the first check waits for the slower of
  // the two, not for both in turn.
  const [loaded, decoding] = await Promise.allSettled([load(), decode(image)]);
  if (decoding.status === "rejected") throw decoding.reason;
  const decoded = decoding.value;
  if (loaded.status === "rejected") {
    decoded.bitmap.close();
    throw loaded.reason;
  }
  const { bitmap, width, height } = decoded;
  try {
    const scale = Math.min(1, DETECT_SIDE / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas in the worker");
    ctx.drawImage(bitmap, 0, 0, w, h);
    const input = tf.browser.fromPixels(ctx.getImageData(0, 0, w, h));
    let found: Detection[];
    try {
      const detect = faceapi.detectAllFaces as unknown as DetectFn;
      found = await detect(input, new faceapi.TinyFaceDetectorOptions({ inputSize: 512, scoreThreshold: 0.3 })).withFaceLandmarks();
    } finally {
      tf.dispose(input);
    }
    const toPhoto = { x: width / w, y: height / h };
    const faces: DetectedFace[] = found.map((d) => {
      const b = d.detection.box;
      const box = { x: b.x * toPhoto.x, y: b.y * toPhoto.y, width: b.width * toPhoto.x, height: b.height * toPhoto.y };
      return { box, score: d.detection.score, yaw: yaw(d.landmarks.positions), sharpness: sharpness(bitmap, inBitmap(box, decoded)) };
    });
    return { report: { width, height, faces, backend: tf.getBackend(), ms: performance.now() - t0 }, picture: bitmap };
  } catch (err) {
    bitmap.close();
    throw err;
  }
}

scope.onmessage = (e) => {
  const msg = e.data;
  const job =
    "warmup" in msg ? load().then((ready) => ({ id: msg.id, ready })) : check(msg.image).then((checked) => ({ id: msg.id, ...checked }));
  job.then(
    (answer) => scope.postMessage(answer, "picture" in answer ? [answer.picture] : []),
    (err: unknown) => scope.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) }),
  );
};
