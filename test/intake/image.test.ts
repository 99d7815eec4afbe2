/** worker/services/image.ts on its own: the copy and in-place strip agree, and a clean image is not copied. */
import { describe, expect, it } from "vitest";
import { validateImage } from "../../worker/services/image";
import { jpegWithExif, pngWithText, webpWithExif } from "../fixtures/images";
import { bytesOf } from "./helpers";

const cases = [
  ["JPEG", jpegWithExif, "image/jpeg", ["exif", "xmp", "iptc", "comment"]],
  ["PNG", pngWithText, "image/png", ["text", "exif"]],
  ["WebP", webpWithExif, "image/webp", ["exif", "xmp", "vp8x-metadata-flags"]],
] as const;

describe("image: happy path", () => {
  it.each(cases)("%s: in-place stripping gives the same bytes as the copying strip", (_name, fixture, type, removed) => {
    const original = bytesOf(fixture);
    const copied = validateImage(original, type);
    const scratch = original.slice();
    const inPlace = validateImage(scratch, type, { inPlace: true });
    expect(copied.ok && inPlace.ok).toBe(true);
    if (!copied.ok || !inPlace.ok) return;
    expect(inPlace.value.bytes).toEqual(copied.value.bytes);
    expect(inPlace.value.bytes.buffer).toBe(scratch.buffer);
    expect(copied.value.bytes.buffer).not.toBe(original.buffer);
    expect(original).toEqual(bytesOf(fixture));
    for (const what of removed) expect(copied.value.removed).toContain(what);
  });

  it.each(cases)("%s: a clean image validates to itself, without a copy", (_name, fixture, type) => {
    const first = validateImage(bytesOf(fixture), type);
    if (!first.ok) throw new Error(first.detail);
    const clean = first.value.bytes;
    const again = validateImage(clean, type);
    expect(again.ok && again.value.removed).toEqual([]);
    expect(again.ok && again.value.bytes).toBe(clean);
  });

  it("without a declared type the magic bytes decide", () => {
    const res = validateImage(bytesOf(pngWithText));
    expect(res.ok && res.value.type).toBe("image/png");
  });
});
