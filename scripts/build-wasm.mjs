// Assembles the hand-written WebAssembly text in worker/lib/wasm/*.wat into the
// committed *.wasm next to it (wabt, the WebAssembly binary toolkit).
//   node scripts/build-wasm.mjs          rebuild
//   node scripts/build-wasm.mjs --check  exit 1 if a committed .wasm differs from its .wat
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "worker", "lib", "wasm");

/** The binary for one .wat file. */
export async function assemble(watPath) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(watPath, readFileSync(watPath, "utf8"), { simd: true });
  try {
    mod.validate();
    return Buffer.from(mod.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

export async function build({ check = false } = {}) {
  const stale = [];
  for (const name of readdirSync(DIR).filter((f) => f.endsWith(".wat"))) {
    const wasmPath = join(DIR, name.replace(/\.wat$/, ".wasm"));
    const bytes = await assemble(join(DIR, name));
    const same = existsSync(wasmPath) && Buffer.compare(readFileSync(wasmPath), bytes) === 0;
    if (same) continue;
    if (check) stale.push(wasmPath);
    else writeFileSync(wasmPath, bytes);
  }
  return stale;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes("--check");
  const stale = await build({ check });
  if (stale.length) {
    process.stderr.write(`out of date (run node scripts/build-wasm.mjs): ${stale.join(", ")}\n`);
    process.exitCode = 1;
  }
}
