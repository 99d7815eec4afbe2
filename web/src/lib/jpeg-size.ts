/**
 * The pixel size of a JPEG, read from its frame header without decoding it
 * (ITU-T T.81 §B.2.2: the SOFn segment holds the sample precision, the number
 * of lines, then the number of samples per line). Used by the face check to
 * ask the decoder for a reduced size before decoding (docs/decisions/0024).
 *
 * The size is the coded one: an EXIF orientation of 5-8 swaps it on screen.
 * The short side, which is what the face check needs, is the same either way.
 */

/** Start-of-frame markers: every SOFn except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** Markers that stand alone, without a length: TEM and RST0-7 (T.81 §B.1.1.3). */
const standsAlone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);

/**
 * `{ width, height }` from the first bytes of a JPEG (the segments before the
 * frame header: EXIF and ICC profiles can take 64 KB each, so pass enough of
 * them), or null when `bytes` is not a JPEG or the header is not within them.
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  const at = (i: number) => bytes[i] ?? 0;
  if (at(0) !== 0xff || at(1) !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (at(i) !== 0xff) return null;
    const marker = at(i + 1);
    if (marker === 0xff) {
      i += 1; // fill byte (T.81 §B.1.1.2)
      continue;
    }
    if (standsAlone(marker)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image, or scan data before any frame header
    const length = (at(i + 2) << 8) | at(i + 3);
    if (length < 2) return null;
    if (isStartOfFrame(marker)) {
      if (i + 9 > bytes.length) return null;
      const height = (at(i + 5) << 8) | at(i + 6);
      const width = (at(i + 7) << 8) | at(i + 8);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    i += 2 + length;
  }
  return null;
}
