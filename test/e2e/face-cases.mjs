// The face check's cases (issue 20 item 5), built from the sample photos inside
// @vladmandic/face-api (test/e2e/face-fixtures.mjs, licence in test/fixtures/faces.md).
// Face boxes below are where the detector finds each face in the original sample (x, y, size in px).
import { blur, crop, encode, onCanvas, resize, sample } from "./face-fixtures.mjs";

/** Frontal single faces: [sample, x, y, w, h]. */
const FRONTAL = [
  [1, 790, 445, 282, 247],
  [2, 1408, 185, 277, 240],
  [4, 1224, 177, 247, 242],
  [5, 322, 907, 295, 290],
  [6, 1435, 299, 311, 281],
  [6, 625, 389, 275, 267],
  [6, 1127, 359, 269, 263],
  [6, 215, 525, 274, 272],
];
/** Heads turned well away from the camera. */
const TURNED = [
  [4, 626, 106, 261, 243],
  [5, 553, 451, 257, 226],
];

/** The face with `margin` × its size around it, kept inside the photo. */
function single([n, x, y, w, h], margin = 0.45) {
  const img = sample(n);
  const m = Math.round(Math.max(w, h) * margin);
  const x0 = Math.max(0, x - m);
  const y0 = Math.max(0, y - m);
  return crop(img, { x: x0, y: y0, width: Math.min(img.width - x0, w + 2 * m), height: Math.min(img.height - y0, h + 2 * m) });
}

const lazy = (make) => {
  let bytes;
  return () => (bytes ??= make());
};

export const FACE_CASES = [
  ...FRONTAL.map((f, i) => ({ name: `frontal ${i + 1} (sample ${f[0]})`, expect: "ok", bytes: lazy(() => encode(single(f))) })),
  ...[1, 3, 6].map((n) => ({ name: `group photo (sample ${n})`, expect: "several_faces", bytes: lazy(() => encode(sample(n))) })),
  ...TURNED.map((f, i) => ({ name: `turned head ${i + 1} (sample ${f[0]})`, expect: "turned", bytes: lazy(() => encode(single(f, 0.8))) })),
  ...[0, 5].map((i) => ({
    name: `heavy blur of frontal ${i + 1}`,
    expect: "blurry",
    bytes: lazy(() => encode(blur(single(FRONTAL[i]), 2))),
  })),
  {
    name: "face about 100 px on 1000 x 1000 (under 12 % of the short side)",
    expect: "too_small",
    bytes: lazy(() => encode(onCanvas(resize(single(FRONTAL[6]), 165, 165), 1000, 1000, 400, 380))),
  },
  {
    name: "face 70 px on 640 x 480 (under 80 px)",
    expect: "too_small",
    bytes: lazy(() => encode(onCanvas(resize(single(FRONTAL[6]), 120, 120), 640, 480, 250, 150))),
  },
  {
    name: "no face: plain wall",
    expect: "no_face",
    bytes: lazy(() => encode(onCanvas({ width: 0, height: 0, data: new Uint8Array() }, 900, 700, 0, 0))),
  },
  {
    name: "no face: corner of sample 2 without people",
    expect: "no_face",
    bytes: lazy(() => encode(crop(sample(2), { x: 0, y: 0, width: 500, height: 400 }))),
  },
];

/** One case by name prefix, as a Playwright file payload. */
export function facePhoto(prefix, name = "photo.jpg") {
  const c = FACE_CASES.find((x) => x.name.startsWith(prefix));
  if (!c) throw new Error(`no face case "${prefix}"`);
  return { name, mimeType: "image/jpeg", buffer: c.bytes() };
}

/**
 * A 4000 x 3000 JPEG (12 MP) of one person, for the benchmark: a 4:3 region around frontal face 2 of
 * sample 2, narrow enough to leave out her neighbours' faces, upscaled about 5.6x (face about 1500 px,
 * half the short side, as in a close phone portrait), with mild sensor-like noise so the file is as busy
 * to decode as a camera's (about 2.4 MB) rather than a smooth upscale. Same bytes on every run.
 */
export function twelveMegapixel() {
  const [n, x, y, w, h] = FRONTAL[1];
  const img = sample(n);
  const width = Math.min(img.width, Math.round(Math.max(w, h) * 2.6));
  const height = Math.round((width * 3) / 4);
  const x0 = Math.round(Math.min(Math.max(0, x + w / 2 - width / 2), img.width - width));
  const y0 = Math.round(Math.min(Math.max(0, y + h / 2 - height / 2), img.height - height));
  const big = resize(crop(img, { x: x0, y: y0, width, height }), 4000, 3000);
  let seed = 20;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < big.data.length; i += 4) {
    const noise = (rand() + rand() + rand() - 1.5) * 8;
    for (let c = 0; c < 3; c++) big.data[i + c] = Math.max(0, Math.min(255, Math.round(big.data[i + c] + noise)));
  }
  return encode(big, 90);
}

/** RGBA pixels of frontal face `which` (0-based) filling width x height: the create-flow fixtures' subject. */
export function facePixels(width, height, which) {
  return Buffer.from(resize(single(FRONTAL[which % FRONTAL.length], 0.5), width, height).data);
}
