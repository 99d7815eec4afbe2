/**
 * EXIF Orientation through `POST /v1/photos` (issue 14 §6). A camera JPEG is
 * often stored sideways with Orientation 2-8 saying how to turn it; intake
 * keeps that one tag (a minimal APP1/EXIF, nothing else of the EXIF) so the
 * stored photo displays upright, and answers with the upright width/height.
 *
 * Checked on decoded pixels: an asymmetric upright picture (four quadrants of
 * different colours) is coded the way a camera would for each orientation,
 * uploaded, read back from storage, decoded (jpeg-js, which ignores EXIF) and
 * turned by the kept tag as a browser does (EXIF 2.32 Table 6; CSS
 * `image-orientation: from-image`, the default): it must be the upright
 * picture again.
 */
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { getObject } from "../../worker/services/storage";
import { json, services } from "../helpers";
import { upload } from "./helpers";

const W = 384;
const H = 256;
/** Upright quadrant colours: top-left, top-right, bottom-left, bottom-right. */
const QUADS: [number, number, number][] = [
  [220, 30, 30],
  [30, 200, 30],
  [30, 30, 220],
  [240, 240, 240],
];

function uprightColor(x: number, y: number): [number, number, number] {
  return QUADS[(y < H / 2 ? 0 : 2) + (x < W / 2 ? 0 : 1)] ?? [0, 0, 0];
}

/**
 * Where the displayed pixel (x, y) comes from in the coded image (cw × ch),
 * for each orientation: EXIF 2.32 Table 6 (1 identity, 2 mirror, 3 rotate
 * 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
 * counter-clockwise).
 */
function source(o: number, x: number, y: number, cw: number, ch: number): [number, number] {
  switch (o) {
    case 2: return [cw - 1 - x, y];
    case 3: return [cw - 1 - x, ch - 1 - y];
    case 4: return [x, ch - 1 - y];
    case 5: return [y, x];
    case 6: return [y, ch - 1 - x];
    case 7: return [cw - 1 - y, ch - 1 - x];
    case 8: return [cw - 1 - y, x];
    default: return [x, y];
  }
}

/** The coded JPEG a camera would write for the upright picture with orientation `o`, with a full EXIF (make, model, GPS-ish data). */
function cameraJpeg(o: number, littleEndian: boolean): Uint8Array {
  const swap = o >= 5;
  const cw = swap ? H : W;
  const ch = swap ? W : H;
  const data = new Uint8Array(cw * ch * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [sx, sy] = source(o, x, y, cw, ch);
      const [r, g, b] = uprightColor(x, y);
      data.set([r, g, b, 255], (sy * cw + sx) * 4);
    }
  }
  const coded = new Uint8Array(jpeg.encode({ data, width: cw, height: ch }, 90).data);
  return withExif(coded, o, littleEndian);
}

/** Inserts an APP1 Exif after SOI: IFD0 with Make, Orientation and Model, in either byte order. */
function withExif(coded: Uint8Array, o: number, le: boolean): Uint8Array {
  const make = new TextEncoder().encode("SecretCam\0");
  const model = new TextEncoder().encode("Model-Private-42\0");
  const tiff: number[] = [];
  const u16 = (v: number) => (le ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff]);
  const u32 = (v: number) => (le ? [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24] : [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  const entries = 3;
  const dataStart = 8 + 2 + entries * 12 + 4;
  tiff.push(...(le ? [0x49, 0x49] : [0x4d, 0x4d]), ...u16(42), ...u32(8), ...u16(entries));
  tiff.push(...u16(0x010f), ...u16(2), ...u32(make.length), ...u32(dataStart));
  tiff.push(...u16(0x0112), ...u16(3), ...u32(1), ...u16(o), 0, 0);
  tiff.push(...u16(0x0110), ...u16(2), ...u32(model.length), ...u32(dataStart + make.length));
  tiff.push(...u32(0), ...make, ...model);
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const len = payload.length + 2;
  const app1 = Uint8Array.from([0xff, 0xe1, len >> 8, len & 0xff, ...payload]);
  const out = new Uint8Array(coded.length + app1.length);
  out.set(coded.subarray(0, 2), 0);
  out.set(app1, 2);
  out.set(coded.subarray(2), 2 + app1.length);
  return out;
}

/** The APP1 Exif segments of a JPEG header, as their payloads. */
function exifSegments(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 2;
  while (pos + 4 <= b.length && b[pos] === 0xff) {
    const marker = b[pos + 1] ?? 0;
    if (marker === 0xda || marker === 0xd9) break;
    const len = ((b[pos + 2] ?? 0) << 8) | (b[pos + 3] ?? 0);
    if (marker === 0xe1) out.push(b.subarray(pos + 4, pos + 2 + len));
    pos += 2 + len;
  }
  return out;
}

/** Orientation in a (minimal or full) Exif payload, read independently of the worker's parser. */
function orientationOf(payload: Uint8Array): number {
  const le = payload[6] === 0x49;
  const r16 = (i: number) => (le ? (payload[i] ?? 0) | ((payload[i + 1] ?? 0) << 8) : ((payload[i] ?? 0) << 8) | (payload[i + 1] ?? 0));
  const ifd = 6 + (le ? (payload[10] ?? 0) : (payload[13] ?? 0));
  for (let i = 0; i < r16(ifd); i++) if (r16(ifd + 2 + i * 12) === 0x0112) return r16(ifd + 2 + i * 12 + 8);
  return 1;
}

/** Decodes and applies the orientation as a browser would; samples each quadrant's centre. */
function displayedQuadrants(stored: Uint8Array, o: number): { width: number; height: number; quads: [number, number, number][] } {
  const img = jpeg.decode(stored, { useTArray: true });
  const swap = o >= 5;
  const width = swap ? img.height : img.width;
  const height = swap ? img.width : img.height;
  const at = (x: number, y: number): [number, number, number] => {
    const [sx, sy] = source(o, x, y, img.width, img.height);
    const i = (sy * img.width + sx) * 4;
    return [img.data[i] ?? 0, img.data[i + 1] ?? 0, img.data[i + 2] ?? 0];
  };
  const qx = [width / 4, (3 * width) / 4].map(Math.floor);
  const qy = [height / 4, (3 * height) / 4].map(Math.floor);
  return { width, height, quads: [at(qx[0] ?? 0, qy[0] ?? 0), at(qx[1] ?? 0, qy[0] ?? 0), at(qx[0] ?? 0, qy[1] ?? 0), at(qx[1] ?? 0, qy[1] ?? 0)] };
}

function close(a: [number, number, number], b: [number, number, number]): boolean {
  return a.every((v, i) => Math.abs(v - (b[i] ?? 0)) <= 40);
}

describe("intake: EXIF orientation", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])("orientation %i: stored upright (kept tag only), answered with the upright width and height", async (o) => {
    const user = `orient-${o}`;
    const sent = cameraJpeg(o, o % 2 === 0);
    // The test image itself is right: the coded pixels turned by the tag give the upright picture.
    expect(displayedQuadrants(sent, o).quads.every((q, i) => close(q, QUADS[i] ?? [0, 0, 0]))).toBe(true);

    const { res, userId } = await upload(user, sent);
    expect(res.status).toBe(201);
    const body = await json<{ id: string; width: number; height: number }>(res);
    expect({ width: body.width, height: body.height }).toEqual({ width: W, height: H });

    const stored = (await getObject(services(), userId, body.id))?.bytes;
    if (!stored) throw new Error("photo not stored");
    const exif = exifSegments(stored);
    if (o === 1) {
      expect(exif).toEqual([]);
    } else {
      // One minimal Exif: the orientation and nothing else (no make, no model).
      expect(exif).toHaveLength(1);
      expect(exif[0]?.length).toBe(32);
      expect(orientationOf(exif[0] ?? new Uint8Array())).toBe(o);
    }
    const text = new TextDecoder("latin1").decode(stored);
    expect(text).not.toContain("SecretCam");
    expect(text).not.toContain("Model-Private");

    const shown = displayedQuadrants(stored, o === 1 ? 1 : orientationOf(exif[0] ?? new Uint8Array()));
    expect({ width: shown.width, height: shown.height }).toEqual({ width: W, height: H });
    shown.quads.forEach((q, i) => expect(close(q, QUADS[i] ?? [0, 0, 0]), `quadrant ${i} is ${q.join(",")}`).toBe(true));
  });

  it("an EXIF segment with a malformed orientation entry is dropped whole and the photo kept as coded", async () => {
    const sent = cameraJpeg(1, true);
    // Orientation value 9 is not defined: nothing is kept.
    const i = sent.findIndex((_, k) => sent[k] === 0x12 && sent[k + 1] === 0x01 && sent[k + 2] === 0x03);
    expect(i).toBeGreaterThan(0);
    sent[i + 8] = 9;
    const { res, userId } = await upload("orient-bad", sent);
    expect(res.status).toBe(201);
    const body = await json<{ id: string; width: number; height: number }>(res);
    expect({ width: body.width, height: body.height }).toEqual({ width: W, height: H });
    const stored = (await getObject(services(), userId, body.id))?.bytes ?? new Uint8Array();
    expect(exifSegments(stored)).toEqual([]);
  });
});
