/**
 * How small the face check decodes a photo (docs/decisions/0024). JPEG
 * decoders can decode at M/8 of the size, M = 1..8, for much less work than
 * the full size (libjpeg's DCT scaling; Chromium's WebCodecs ImageDecoder uses
 * it when given desiredWidth/desiredHeight and picks the largest M/8 not above
 * them). The face check and the crop that is sent both come from that one
 * decode, so its short side is kept at MIN_DECODED_SIDE or more.
 */

/**
 * The decoded photo's short side is at least this (or the whole photo when it
 * is smaller). At the smallest face the rules accept (12 % of the short side,
 * rules.ts MIN_FACE_SHARE) the face box is then 180 px: the blur measure's
 * window (70 % of the box, drawn at 128 px) is 126 px, so it is not blurred by
 * upscaling, and the square that is sent (2.2 × the box) is 396 px or more.
 */
export const MIN_DECODED_SIDE = 1500;

/**
 * The eighths (1..8) at which to decode a `width` x `height` photo: the
 * smallest that keeps the short side at MIN_DECODED_SIDE or more.
 */
export function decodeEighths(width: number, height: number): number {
  const short = Math.min(width, height);
  for (let m = 1; m < 8; m++) if (Math.ceil((short * m) / 8) >= MIN_DECODED_SIDE) return m;
  return 8;
}

/** The size libjpeg gives for `eighths`/8 of `width` x `height` (rounded up, jdmaster.c). */
export function scaledSize(width: number, height: number, eighths: number): { width: number; height: number } {
  return { width: Math.ceil((width * eighths) / 8), height: Math.ceil((height * eighths) / 8) };
}
