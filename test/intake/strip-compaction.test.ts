/**
 * In-place stripping (validateImage { inPlace: true }) compacts toward
 * whichever end moves fewer bytes. Either way it must give exactly the bytes
 * of the copying strip; with metadata before the pixel data (the usual JPEG
 * layout) the bulk of the photo stays where it was instead of being shifted.
 */
import { describe, expect, it } from "vitest";
import { concat } from "../../worker/lib/bytes";
import { validateImage } from "../../worker/services/image";
import { ascii, jpegSegment } from "./helpers";

/** Entropy-coded bytes with no 0xFF (so no stuffing needed), distinct enough to notice a misplaced byte. */
const scanBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 255);

const jfif = jpegSegment(0xe0, ascii("JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
const exif = jpegSegment(0xe1, concat(ascii("Exif\0\0"), new Uint8Array(3000).fill(0x41)));
const icc = (n: number) => jpegSegment(0xe2, concat(ascii("ICC_PROFILE\0"), new Uint8Array(n).fill(0x42)));
const sof = jpegSegment(0xc0, Uint8Array.from([8, 3000 >> 8, 3000 & 0xff, 4000 >> 8, 4000 & 0xff, 1, 1, 0x11, 0]));
const dqt = jpegSegment(0xdb, concat(Uint8Array.of(0), new Uint8Array(64).fill(1)));
const sos = jpegSegment(0xda, Uint8Array.of(1, 1, 0, 0, 63, 0));
const comment = jpegSegment(0xfe, ascii("where this was taken"));
const SOI = Uint8Array.of(0xff, 0xd8);
const EOI = Uint8Array.of(0xff, 0xd9);

function stripBoth(input: Uint8Array) {
  const copied = validateImage(input, "image/jpeg");
  const scratch = input.slice();
  const inPlace = validateImage(scratch, "image/jpeg", { inPlace: true });
  if (!copied.ok || !inPlace.ok) throw new Error("fixture rejected");
  return { copied: copied.value, inPlace: inPlace.value, scratch };
}

describe("image: in-place strip compaction", () => {
  it("metadata before a large scan: same bytes as the copy, and the scan data is not moved", () => {
    const scan = scanBytes(200_000);
    const input = concat(SOI, jfif, exif, dqt, sof, sos, scan, EOI);
    const scanAt = input.length - EOI.length - scan.length;
    const { copied, inPlace, scratch } = stripBoth(input);
    expect(copied.removed).toContain("exif");
    expect(inPlace.bytes).toEqual(copied.bytes);
    expect(inPlace.bytes.buffer).toBe(scratch.buffer);
    expect(inPlace.bytes.length).toBe(input.length - exif.length);
    // Right-aligned: the stripped image ends where the original did, so the scan kept its offset.
    expect(inPlace.bytes.byteOffset + inPlace.bytes.length).toBe(input.length);
    expect(scratch.subarray(scanAt, scanAt + scan.length)).toEqual(scan);
  });

  it("metadata after a large kept segment: same bytes as the copy, compacted toward the start", () => {
    const input = concat(SOI, jfif, icc(60_000), icc(60_000), dqt, sof, comment, sos, scanBytes(500), EOI);
    const { copied, inPlace, scratch } = stripBoth(input);
    expect(copied.removed).toContain("comment");
    expect(inPlace.bytes).toEqual(copied.bytes);
    expect(inPlace.bytes.buffer).toBe(scratch.buffer);
    expect(inPlace.bytes.byteOffset).toBe(0);
  });

  it("metadata at both ends and appended bytes (a polyglot): same bytes as the copy, nothing appended survives", () => {
    const tail = ascii("PK\x03\x04 not part of the photo <html>");
    const input = concat(SOI, exif, jfif, dqt, sof, comment, sos, scanBytes(50_000), EOI, tail);
    const { copied, inPlace } = stripBoth(input);
    expect(copied.removed).toEqual(expect.arrayContaining(["exif", "comment", "trailing-bytes"]));
    expect(inPlace.bytes).toEqual(copied.bytes);
    expect(Array.from(inPlace.bytes.subarray(-2))).toEqual([0xff, 0xd9]);
  });
});
