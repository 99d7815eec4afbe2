/**
 * How the face check decodes a photo at reduced size (docs/decisions/0024): the JPEG's size read from its
 * header (web/src/lib/jpeg-size.ts) and the eighths asked of the decoder (face-check/decode-size.ts).
 */
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { decodeEighths, MIN_DECODED_SIDE, scaledSize } from "../../web/src/features/face-check/decode-size.ts";
import { MIN_FACE_SHARE } from "../../web/src/features/face-check/rules.ts";
import { jpegSize } from "../../web/src/lib/jpeg-size.ts";

/** A real JPEG of width x height (grey), as jpeg-js encodes it: APP0 (JFIF), DQT, SOF0, DHT, SOS. */
const encoded = (width: number, height: number) =>
  new Uint8Array(jpeg.encode({ width, height, data: Buffer.alloc(width * height * 4, 128) }, 80).data);

/** A segment `marker` with `payload` (T.81 §B.1.1.4: the length counts itself, not the marker). */
const segment = (marker: number, payload: Uint8Array) =>
  Uint8Array.from([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload]);

/** `jpg` with `segments` inserted after its SOI marker, as cameras put EXIF and ICC there. */
function withSegments(jpg: Uint8Array, ...segments: Uint8Array[]): Uint8Array {
  const out = Buffer.concat([jpg.subarray(0, 2), ...segments, jpg.subarray(2)]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

describe("jpegSize", () => {
  it("reads the width and height from the frame header of a real JPEG", () => {
    expect(jpegSize(encoded(321, 123))).toEqual({ width: 321, height: 123 });
    expect(jpegSize(encoded(17, 900))).toEqual({ width: 17, height: 900 });
  });

  it("walks past EXIF and ICC segments of any length, and fill bytes between markers", () => {
    const exif = segment(0xe1, new Uint8Array(30_000).fill(0xff)); // 0xff bytes inside a segment are data, not markers
    const icc = segment(0xe2, new Uint8Array(60_000).fill(7));
    const jpg = withSegments(encoded(640, 480), exif, icc, Uint8Array.from([0xff, 0xff]));
    expect(jpg.length).toBeGreaterThan(90_000);
    expect(jpegSize(jpg)).toEqual({ width: 640, height: 480 });
  });

  it("says null for what is not a JPEG, or when the frame header is beyond the bytes given", () => {
    expect(jpegSize(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBeNull();
    expect(jpegSize(new Uint8Array())).toBeNull();
    const jpg = withSegments(encoded(640, 480), segment(0xe1, new Uint8Array(70_000)));
    expect(jpegSize(jpg.subarray(0, 64 * 1024))).toBeNull();
    // A scan before any frame header (a broken file) is not read as one.
    expect(jpegSize(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 0xff, 0xc0]))).toBeNull();
  });
});

describe("decode size", () => {
  it("decodes a 12 MP photo at half size, its short side 1500 px", () => {
    expect(decodeEighths(4000, 3000)).toBe(4);
    expect(scaledSize(4000, 3000, 4)).toEqual({ width: 2000, height: 1500 });
    expect(decodeEighths(3000, 4000)).toBe(4);
  });

  it("keeps the short side at MIN_DECODED_SIDE or more, with the fewest eighths that do", () => {
    for (const [w, h] of [
      [3264, 2448],
      [4032, 3024],
      [6000, 4000],
      [8000, 6000],
      [12000, 9000],
      [1501, 1501],
    ] as const) {
      const m = decodeEighths(w, h);
      const size = scaledSize(w, h, m);
      expect(Math.min(size.width, size.height), `${w}x${h}`).toBeGreaterThanOrEqual(MIN_DECODED_SIDE);
      if (m > 1) expect(Math.min(...Object.values(scaledSize(w, h, m - 1))), `${w}x${h}`).toBeLessThan(MIN_DECODED_SIDE);
    }
  });

  it("decodes photos of 1500 px or less on the short side at full size", () => {
    expect(decodeEighths(1920, 1080)).toBe(8);
    expect(decodeEighths(2000, 1500)).toBe(8);
    expect(decodeEighths(640, 480)).toBe(8);
  });

  it("gives the smallest face the rules accept enough pixels for the blur measure's 128 px window", () => {
    // rules.ts: faces under 12 % of the short side are refused; the blur measure reads 70 % of the box at 128 px.
    expect(MIN_DECODED_SIDE * MIN_FACE_SHARE * 0.7).toBeGreaterThanOrEqual(0.98 * 128);
  });
});
