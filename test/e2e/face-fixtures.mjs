// The face check's photo set (issue 20 item 5), made at run time from the
// sample photos shipped inside @vladmandic/face-api (MIT licence, see
// test/fixtures/faces.md): whole group photos (several faces), single faces
// cut out of them (accepted), and derived cases that must be refused: no face,
// a face too small, heavy blur, a turned head. jpeg-js only, no native code.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import jpeg from "jpeg-js";

const require = createRequire(import.meta.url);
const SAMPLES = require.resolve("@vladmandic/face-api/package.json").replace(/package\.json$/, "demo/");

const cache = new Map();
/** A sample photo decoded to RGBA: { width, height, data }. n = 1..6. */
export function sample(n) {
  if (!cache.has(n)) cache.set(n, jpeg.decode(readFileSync(`${SAMPLES}sample${n}.jpg`), { useTArray: true, maxMemoryUsageInMB: 1024 }));
  return cache.get(n);
}

export function encode(img, quality = 90) {
  return Buffer.from(jpeg.encode(img, quality).data);
}

export function crop(img, { x, y, width, height }) {
  const data = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * img.width + x) * 4;
    data.set(img.data.subarray(from, from + width * 4), row * width * 4);
  }
  return { width, height, data };
}

/** Bilinear resize to width x height. */
export function resize(img, width, height) {
  const data = new Uint8Array(width * height * 4);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(img.height - 1, Math.floor(fy));
    const y1 = Math.min(img.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(img.width - 1, Math.floor(fx));
      const x1 = Math.min(img.width - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < 4; c++) {
        const a = img.data[(y0 * img.width + x0) * 4 + c] * (1 - wx) + img.data[(y0 * img.width + x1) * 4 + c] * wx;
        const b = img.data[(y1 * img.width + x0) * 4 + c] * (1 - wx) + img.data[(y1 * img.width + x1) * 4 + c] * wx;
        data[(y * width + x) * 4 + c] = Math.round(a * (1 - wy) + b * wy);
      }
    }
  }
  return { width, height, data };
}

/** Three box-blur passes of `radius` (close to a Gaussian of sigma ≈ radius). */
export function blur(img, radius) {
  let src = img.data;
  const { width, height } = img;
  for (let pass = 0; pass < 3; pass++) {
    for (const horizontal of [true, false]) {
      const out = new Uint8Array(src.length);
      const len = horizontal ? width : height;
      const lines = horizontal ? height : width;
      for (let line = 0; line < lines; line++) {
        const idx = (i) => (horizontal ? (line * width + i) * 4 : (i * width + line) * 4);
        for (let c = 0; c < 4; c++) {
          let acc = 0;
          for (let i = -radius; i <= radius; i++) acc += src[idx(Math.min(len - 1, Math.max(0, i))) + c];
          for (let i = 0; i < len; i++) {
            out[idx(i) + c] = Math.round(acc / (2 * radius + 1));
            acc += src[idx(Math.min(len - 1, i + radius + 1)) + c] - src[idx(Math.max(0, i - radius)) + c];
          }
        }
      }
      src = out;
    }
  }
  return { width, height, data: src };
}

/** `img` pasted at (x, y) on a plain canvas of width x height. */
export function onCanvas(img, width, height, x, y, rgb = [178, 186, 190]) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], i * 4);
  for (let row = 0; row < img.height; row++)
    data.set(img.data.subarray(row * img.width * 4, (row + 1) * img.width * 4), ((y + row) * width + x) * 4);
  return { width, height, data };
}
