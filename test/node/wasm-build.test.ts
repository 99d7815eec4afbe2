/**
 * The committed WebAssembly binaries are what the hand-written text says:
 * nobody can slip a different jpeg-scan.wasm past review, and an edit to the
 * .wat without a rebuild fails here (scripts/build-wasm.mjs).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { assemble } from "../../scripts/build-wasm.mjs";

describe("wasm build", () => {
  it("worker/lib/wasm/jpeg-scan.wasm is byte for byte the assembly of jpeg-scan.wat", async () => {
    const dir = decodeURIComponent(new URL("../../worker/lib/wasm/", import.meta.url).pathname);
    const built = (await assemble(join(dir, "jpeg-scan.wat"))) as Buffer;
    const committed = readFileSync(join(dir, "jpeg-scan.wasm"));
    expect(built.length).toBeGreaterThan(100);
    expect(Buffer.compare(built, committed)).toBe(0);
    // It exports what worker/lib/jpeg-scan.ts expects. (The Workers types declare the constructor
    // abstract, since Workers cannot compile at run time; Node can.)
    const exports = WebAssembly.Module.exports(new (WebAssembly.Module as unknown as new (b: Uint8Array) => WebAssembly.Module)(committed)).map(
      (e) => `${e.kind}:${e.name}`,
    );
    expect(exports.sort()).toEqual(["function:scan", "memory:memory"]);
  });
});
