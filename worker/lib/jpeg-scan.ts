/**
 * Finds where a JPEG's entropy-coded data ends (ITU-T T.81 §B.1.1.5): the
 * first 0xFF followed by a byte that is not stuffing (0x00), a restart marker
 * (0xD0-0xD7) or fill (0xFF). Every byte of the photo's bulk is looked at, so
 * this runs in WebAssembly SIMD (worker/lib/wasm/jpeg-scan.wat; why in
 * docs/decisions/0007-intake-fast-path.md).
 *
 * WebAssembly can only read its own memory, so bytes are copied into a window
 * there: 64 KiB at a time for `entropyDataEnd`, one storage segment at a time
 * for `scanWindow`, which also hands that copy to the encryption so the photo
 * is read from memory once. The module's memory grows to the largest window
 * asked for (a segment, 1 MiB) and no further, whatever the photo size.
 * Workers run one request's JavaScript at a time per isolate and neither
 * function awaits, so one shared window is safe as long as a caller is done
 * with a window view before it next awaits (WebCrypto copies its input when
 * called).
 */
import scanModule from "./wasm/jpeg-scan.wasm";

const CHUNK = 64 * 1024;
const PAGE = 64 * 1024;

interface Scanner {
  scan: (start: number, end: number) => number;
  memory: WebAssembly.Memory;
}

let scanner: Scanner | null = null;

function load(): Scanner {
  if (scanner) return scanner;
  const instance = new WebAssembly.Instance(scanModule, {});
  const { scan, memory } = instance.exports;
  if (typeof scan !== "function" || !(memory instanceof WebAssembly.Memory)) throw new Error("jpeg-scan.wasm: unexpected exports");
  scanner = { scan: scan as Scanner["scan"], memory };
  return scanner;
}

/** A view of the module's memory of at least `size` bytes, growing it if needed (which replaces its buffer). */
function windowOf(s: Scanner, size: number): Uint8Array {
  const have = s.memory.buffer.byteLength;
  if (have < size) s.memory.grow(Math.ceil((size - have) / PAGE));
  return new Uint8Array(s.memory.buffer, 0, size);
}

/** Index of the first marker at or after `from`, or -1 when the bytes end first (a truncated JPEG). */
export function entropyDataEnd(bytes: Uint8Array, from: number): number {
  const s = load();
  const window = windowOf(s, CHUNK + 1);
  for (let off = Math.max(0, from); off + 1 < bytes.length; off += CHUNK) {
    const length = Math.min(CHUNK + 1, bytes.length - off);
    window.set(bytes.subarray(off, off + length));
    const at = s.scan(0, length);
    if (at >= 0) return off + at;
  }
  return -1;
}

/**
 * Copies `bytes[start, end)` into the window and checks the part of it that
 * lies in `[from, to)` for a marker (reading one byte past it, so `to` must
 * be below `bytes.length`). Returns the window's copy of `bytes[start, end)`,
 * valid until the next call into this module, or null when a marker was found.
 */
export function scanWindow(bytes: Uint8Array, start: number, end: number, from: number, to: number): Uint8Array | null {
  const s = load();
  const copied = Math.min(end + 1, bytes.length) - start;
  const window = windowOf(s, copied);
  window.set(bytes.subarray(start, start + copied));
  const a = Math.max(from, start);
  const b = Math.min(to, end);
  if (a < b && s.scan(a - start, b - start + 1) >= 0) return null;
  return window.subarray(0, end - start);
}
