// The synthetic photo both intake measurements use (run.mjs end to end, isolated.mjs in workerd).
import { randomBytes } from "node:crypto";

/**
 * A structurally valid baseline JPEG of exactly `size` bytes (4000x3000 in its
 * frame header, random entropy-coded data with 0xFF stuffed) carrying a small
 * EXIF block, so the server's strip path runs and copies the image: the worst
 * case for memory. Never decoded by anything here.
 */
export function syntheticJpeg(size) {
  const seg = (marker, body) => Buffer.concat([Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  const head = Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xe0, Buffer.from("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", "latin1")),
    seg(0xe1, Buffer.concat([Buffer.from("Exif\0\0", "latin1"), randomBytes(2000)])),
    seg(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)])),
    seg(0xc0, Buffer.from([8, 3000 >> 8, 3000 & 0xff, 4000 >> 8, 4000 & 0xff, 1, 1, 0x11, 0])),
    seg(0xc4, Buffer.concat([Buffer.from([0]), Buffer.alloc(16, 0), Buffer.alloc(0)])),
    seg(0xda, Buffer.from([1, 1, 0, 0, 63, 0])),
  ]);
  const out = Buffer.alloc(size);
  head.copy(out, 0);
  const scan = randomBytes(size - head.length - 2);
  let o = head.length;
  for (let i = 0; o < size - 2; i++) {
    const b = scan[i % scan.length];
    if (b === 0xff) {
      if (o + 2 > size - 2) break;
      out[o++] = 0xff;
      out[o++] = 0x00;
    } else out[o++] = b;
  }
  while (o < size - 2) out[o++] = 0x00;
  out[size - 2] = 0xff;
  out[size - 1] = 0xd9;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
