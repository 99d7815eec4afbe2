/**
 * The WebAssembly scanner for JPEG entropy-coded data (worker/lib/jpeg-scan.ts)
 * must find exactly the marker a plain byte-by-byte reading of T.81 §B.1.1.5
 * finds: that position is where the stored photo is cut, so one byte off is a
 * corrupt photo or a surviving polyglot payload. Checked against a reference
 * written the obvious way, on crafted cases around its 16- and 128-byte blocks
 * and its 64 KiB window, and on seeded random buffers.
 */
import { describe, expect, it } from "vitest";
import { entropyDataEnd } from "../../worker/lib/jpeg-scan";
import { validateImage } from "../../worker/services/image";
import { rng } from "../random";

/** The obvious reading: 0xFF then 0x00 is stuffing, 0xFF then 0xD0-0xD7 a restart, 0xFF then 0xFF fill. */
function reference(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) {
    if (b[i] !== 0xff) continue;
    const next = b[i + 1] ?? 0;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) continue;
    return i;
  }
  return -1;
}


/** Entropy-coded-looking bytes: random, every 0xFF stuffed with 0x00, restart markers sprinkled in. */
function stuffed(n: number, random: () => number, restartEvery = 0): Uint8Array {
  const out = new Uint8Array(n);
  let i = 0;
  let rst = 0;
  while (i < n) {
    if (restartEvery && i > 0 && i % restartEvery === 0 && i + 1 < n) {
      out[i++] = 0xff;
      out[i++] = 0xd0 + (rst++ % 8);
      continue;
    }
    const byte = Math.floor(random() * 256);
    out[i++] = byte;
    if (byte === 0xff && i < n) out[i++] = 0x00;
  }
  if (out[n - 1] === 0xff) out[n - 1] = 0x12;
  return out;
}

const CHUNK = 64 * 1024;
const BOUNDARY_POSITIONS = [0, 1, 2, 14, 15, 16, 17, 31, 47, 48, 62, 63, 64, 65, 127, 128, 129, 255, 256, CHUNK - 2, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK];
const MARKER_CODES = [0xd9, 0xc4, 0xda, 0xdb, 0xe1, 0xfe, 0xc0, 0x01, 0xd8, 0xdd];

describe("jpeg scan: agrees with the byte-by-byte reference", () => {
  it("a marker at each position around block and window edges, with each marker code", () => {
    const base = stuffed(2 * CHUNK + 200, rng(1));
    let checked = 0;
    for (const at of BOUNDARY_POSITIONS) {
      for (const code of MARKER_CODES) {
        const b = base.slice();
        // Clear any stuffing pair the marker would land in the middle of.
        if (at > 0 && b[at - 1] === 0xff) b[at - 1] = 0x11;
        b[at] = 0xff;
        b[at + 1] = code;
        const want = reference(b, 0);
        expect(want).toBe(at);
        expect(entropyDataEnd(b, 0)).toBe(want);
        checked++;
      }
    }
    expect(checked).toBe(BOUNDARY_POSITIONS.length * MARKER_CODES.length);
  });

  it("fill bytes before a marker: the last 0xFF before the code is the marker, also across the window edge", () => {
    for (const at of [5, 60, 63, CHUNK - 3, CHUNK - 1, CHUNK]) {
      const b = stuffed(CHUNK + 300, rng(at));
      if (b[at - 1] === 0xff) b[at - 1] = 0x11;
      b.set([0xff, 0xff, 0xff, 0xd9], at);
      expect(entropyDataEnd(b, 0)).toBe(at + 2);
      expect(reference(b, 0)).toBe(at + 2);
    }
  });

  it("stuffing and restart markers never end the data; without a marker the answer is -1", () => {
    for (const restartEvery of [0, 17, 4096]) {
      const b = stuffed(3 * CHUNK + 77, rng(restartEvery + 7), restartEvery);
      expect(reference(b, 0)).toBe(-1);
      expect(entropyDataEnd(b, 0)).toBe(-1);
    }
  });

  it("an 0xFF as the very last byte (its code cut off) is not a marker: truncated", () => {
    for (const n of [1, 2, 64, 65, 66, CHUNK, CHUNK + 1, CHUNK + 2]) {
      const b = stuffed(n, rng(n));
      b[n - 1] = 0xff;
      if (n >= 2 && b[n - 2] === 0xff) b[n - 2] = 0x10;
      expect(entropyDataEnd(b, 0)).toBe(-1);
    }
  });

  it("never reads past the bytes it was given, even when the window still holds a marker code from before", () => {
    // Leave 0xD9 in every byte of the window, then scan buffers whose last byte is a lone 0xFF: a scan that
    // read one byte too far would pair that 0xFF with a stale 0xD9 and report an EOI that is not there.
    const poison = new Uint8Array(CHUNK + 1).fill(0xd9);
    for (const n of [16, 17, 32, 48, 127, 128, 129, 256, 1024, CHUNK - 1, CHUNK, CHUNK + 1]) {
      expect(entropyDataEnd(poison, 0)).toBe(-1);
      const b = stuffed(n, rng(n + 1000));
      if (n >= 2 && b[n - 2] === 0xff) b[n - 2] = 0x10;
      b[n - 1] = 0xff;
      expect(entropyDataEnd(b, 0), `length ${n}`).toBe(-1);
    }
  });

  it("starting offsets that are not block-aligned, and past the end", () => {
    const b = stuffed(CHUNK + 5000, rng(99));
    b.set([0xff, 0xc4], CHUNK + 1234);
    for (const from of [0, 1, 3, 15, 16, 33, 63, 1000, CHUNK - 1, CHUNK + 1234, CHUNK + 1235]) {
      expect(entropyDataEnd(b, from)).toBe(reference(b, from));
    }
    expect(entropyDataEnd(b, CHUNK + 1234)).toBe(CHUNK + 1234);
    expect(entropyDataEnd(b, CHUNK + 1235)).toBe(-1);
    expect(entropyDataEnd(b, b.length + 10)).toBe(-1);
    expect(entropyDataEnd(new Uint8Array(0), 0)).toBe(-1);
  });

  it("a view into a larger buffer is scanned by its own offsets", () => {
    const backing = stuffed(CHUNK * 2, rng(5));
    backing.set([0xff, 0xd9], 1000);
    const view = backing.subarray(1001);
    const shifted = view.slice();
    expect(entropyDataEnd(view, 0)).toBe(reference(shifted, 0));
    const inView = backing.subarray(500, 1500);
    expect(entropyDataEnd(inView, 0)).toBe(500);
  });

  it("seeded random buffers, raw and stuffed, scanned repeatedly as the parser does", () => {
    let compared = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const random = rng(seed);
      const n = Math.floor(random() * 3 * CHUNK) + 1;
      const raw = seed % 2 === 0;
      const b = raw ? Uint8Array.from({ length: n }, () => Math.floor(random() * 256)) : stuffed(n, random, seed % 3 === 0 ? 512 : 0);
      if (!raw) for (let k = 0; k < 4; k++) b.set([0xff, MARKER_CODES[k] ?? 0xd9], Math.floor(random() * (n - 2)));
      let from = 0;
      for (;;) {
        const want = reference(b, from);
        const got = entropyDataEnd(b, from);
        if (got !== want) throw new Error(`seed ${seed}, from ${from}: got ${got}, want ${want}`);
        compared++;
        if (want < 0) break;
        from = want + 2;
      }
    }
    expect(compared).toBeGreaterThan(200);
  });
});

describe("jpeg scan: what the stored photo keeps", () => {
  it("a JPEG whose scan data spans several windows keeps every byte up to EOI and nothing after", () => {
    const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
    const head = Uint8Array.from([
      0xff, 0xd8,
      ...seg(0xc0, [8, 3000 >> 8, 3000 & 0xff, 4000 >> 8, 4000 & 0xff, 1, 1, 0x11, 0]),
      ...seg(0xda, [1, 1, 0, 0, 63, 0]),
    ]);
    const scan = stuffed(3 * CHUNK + 321, rng(42), 8192);
    const tail = new TextEncoder().encode("PK\x03\x04<html>payload</html>");
    const input = new Uint8Array(head.length + scan.length + 2 + tail.length);
    input.set(head, 0);
    input.set(scan, head.length);
    input.set([0xff, 0xd9], head.length + scan.length);
    input.set(tail, head.length + scan.length + 2);
    const result = validateImage(input, "image/jpeg");
    if (!result.ok) throw new Error(result.detail);
    expect(result.value.removed).toContain("trailing-bytes");
    expect(result.value.bytes).toEqual(input.subarray(0, head.length + scan.length + 2));
  });
});
