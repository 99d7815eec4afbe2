/**
 * Finds where a JPEG's entropy-coded data ends (ITU-T T.81 §B.1.1.5): the
 * first 0xFF followed by a byte that is not stuffing (0x00), a restart marker
 * (0xD0-0xD7) or fill (0xFF). Every byte of the photo's bulk is looked at, so
 * this runs in WebAssembly SIMD (worker/lib/wasm/jpeg-scan.wat; why in
 * docs/decisions/0007-intake-fast-path.md).
 *
 * WebAssembly can only read its own memory, so bytes are copied through a
 * 64 KiB window there (plus one byte of lookahead): the module's memory stays
 * at 128 KiB whatever the photo size. Workers run one request's JavaScript at
 * a time per isolate and nothing here awaits, so one shared window is safe.
 */
import scanModule from "./wasm/jpeg-scan.wasm";

const CHUNK = 64 * 1024;

interface Scanner {
  scan: (start: number, end: number) => number;
  window: Uint8Array;
}

let scanner: Scanner | null = null;

function load(): Scanner {
  if (scanner) return scanner;
  const instance = new WebAssembly.Instance(scanModule, {});
  const { scan, memory } = instance.exports;
  if (typeof scan !== "function" || !(memory instanceof WebAssembly.Memory)) throw new Error("jpeg-scan.wasm: unexpected exports");
  scanner = { scan: scan as Scanner["scan"], window: new Uint8Array(memory.buffer, 0, CHUNK + 1) };
  return scanner;
}

/**
 * The first marker position in `[from, to)`, or -1. Each position's next byte
 * is read too, so `to` may be at most `bytes.length - 1`.
 */
export function firstMarker(bytes: Uint8Array, from: number, to: number): number {
  const { scan, window } = load();
  const end = Math.min(to, bytes.length - 1);
  for (let off = Math.max(0, from); off < end; off += CHUNK) {
    const count = Math.min(CHUNK, end - off);
    window.set(bytes.subarray(off, off + count + 1));
    const at = scan(0, count + 1);
    if (at >= 0) return off + at;
  }
  return -1;
}

/** Index of the first marker at or after `from`, or -1 when the bytes end first (a truncated JPEG). */
export function entropyDataEnd(bytes: Uint8Array, from: number): number {
  return firstMarker(bytes, from, bytes.length - 1);
}
