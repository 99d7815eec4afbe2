// The local Fal server's "model": a clearly labelled, NON-AI preview made
// from the two parent photos (a weighted blend with both parents inset),
// encoded as JPEG. Pure JavaScript (jpeg-js, pngjs) so it runs anywhere Node
// does. WebP parents (no pure-JS decoder here) become a neutral panel.
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { drawText, textWidth } from "./font.mjs";
import { fillRect } from "./raster.mjs";

export const PREVIEW_WIDTH = 512;
export const PREVIEW_HEIGHT = 608;
const FACE = 512;
const BAND = PREVIEW_HEIGHT - FACE;
export const PREVIEW_LABEL = "PREVIEW — NOT AI";

/** Parses `data:<type>;base64,<payload>`; returns null for anything else. */
export function parseDataUri(uri) {
  if (typeof uri !== "string") return null;
  const m = /^data:([a-z0-9.+/-]+);base64,([A-Za-z0-9+/=\s]+)$/i.exec(uri);
  if (!m) return null;
  return { contentType: m[1].toLowerCase(), bytes: Buffer.from(m[2], "base64") };
}

/** Decodes JPEG or PNG bytes to RGBA; null when the format is not decodable here. */
export function decodeImage(bytes) {
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 50, maxMemoryUsageInMB: 512 });
      return { width: img.width, height: img.height, data: img.data };
    }
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const img = pngjs.PNG.sync.read(Buffer.from(bytes));
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * Samples `img` cover-scaled into a size x size square (nearest neighbour,
 * optional mirror). `zoom` > 1 crops tighter; `shift` moves the crop by a
 * fraction of the room left on each axis (-1..1).
 */
function coverSampler(img, size, mirror, zoom = 1, shift = [0, 0]) {
  if (!img) return () => [180, 180, 190];
  const scale = Math.max(size / img.width, size / img.height) * zoom;
  const ox = ((img.width - size / scale) / 2) * (1 + shift[0]);
  const oy = ((img.height - size / scale) / 2) * (1 + shift[1]);
  return (x, y) => {
    const sx = Math.min(img.width - 1, Math.max(0, Math.floor(ox + (mirror ? size - 1 - x : x) / scale)));
    const sy = Math.min(img.height - 1, Math.max(0, Math.floor(oy + y / scale)));
    const i = (sy * img.width + sx) * 4;
    return [img.data[i], img.data[i + 1], img.data[i + 2]];
  };
}

/**
 * How each of the (up to 4) images of one request differs, like the seeds of
 * the real model: its own crop (zoom and offset), mirror and blend nudge, so
 * no two images of a request are the same (issue 19). Still a labelled
 * composite, never a generated face.
 */
export const VARIANTS = Object.freeze([
  { zoom: 1, shift: [0, 0], mirror: false, nudge: 0 },
  { zoom: 1.18, shift: [0, -0.6], mirror: true, nudge: 0.12 },
  { zoom: 1.35, shift: [-0.5, 0.3], mirror: false, nudge: -0.12 },
  { zoom: 1.12, shift: [0.5, 0.5], mirror: true, nudge: 0.24 },
]);

/**
 * Builds one preview: `fatherWeight` (0..1) blends the parents, `variant`
 * (0..3, see VARIANTS) picks the crop, mirror and blend nudge so several
 * images of one request differ. Returns JPEG bytes.
 */
export function composePreview({ mother, father, fatherWeight = 0.5, variant = 0, caption = "" }) {
  const w = PREVIEW_WIDTH;
  const h = PREVIEW_HEIGHT;
  const rgba = new Uint8Array(w * h * 4);
  const v = VARIANTS[((variant % VARIANTS.length) + VARIANTS.length) % VARIANTS.length];
  const weight = Math.min(1, Math.max(0, fatherWeight + v.nudge));
  const m = coverSampler(mother, FACE, v.mirror, v.zoom, v.shift);
  const f = coverSampler(father, FACE, v.mirror, v.zoom, v.shift);
  for (let y = 0; y < FACE; y++) {
    for (let x = 0; x < FACE; x++) {
      const a = m(x, y);
      const b = f(x, y);
      const i = (y * w + x) * 4;
      // A soft warm tint marks it as a composite, not a photo.
      rgba[i] = Math.min(255, Math.round(a[0] * (1 - weight) + b[0] * weight) + 12);
      rgba[i + 1] = Math.round(a[1] * (1 - weight) + b[1] * weight);
      rgba[i + 2] = Math.round(a[2] * (1 - weight) + b[2] * weight);
      rgba[i + 3] = 255;
    }
  }
  // Both parents inset, so it is obvious what the picture was made from.
  const thumb = 112;
  for (const [img, x0] of [
    [mother, 12],
    [father, FACE - thumb - 12],
  ]) {
    fillRect(rgba, w, h, x0 - 3, 9, x0 + thumb + 3, 12 + thumb + 3, [255, 255, 255]);
    const s = coverSampler(img, thumb, false);
    for (let y = 0; y < thumb; y++) {
      for (let x = 0; x < thumb; x++) {
        const [r, g, b] = s(x, y);
        const i = ((12 + y) * w + (x0 + x)) * 4;
        rgba[i] = r;
        rgba[i + 1] = g;
        rgba[i + 2] = b;
        rgba[i + 3] = 255;
      }
    }
  }
  // The label band: impossible to mistake for a model output.
  fillRect(rgba, w, h, 0, FACE, w, h, [24, 24, 28]);
  fillRect(rgba, w, h, 0, FACE, w, FACE + 6, [250, 204, 21]);
  const big = 4;
  drawText(rgba, w, h, PREVIEW_LABEL, Math.round((w - textWidth(PREVIEW_LABEL, big)) / 2), FACE + 20, big, [255, 255, 255]);
  if (caption) {
    const small = 2;
    const text = caption.toUpperCase().slice(0, 40);
    drawText(rgba, w, h, text, Math.round((w - textWidth(text, small)) / 2), FACE + BAND - 26, small, [200, 200, 210]);
  }
  return Buffer.from(jpeg.encode({ data: rgba, width: w, height: h }, 85).data);
}
