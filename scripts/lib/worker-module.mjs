// Bundles a Worker module for Node with esbuild (already installed with
// wrangler), so benchmarks and scripts (audit:verify) run the very code the
// Worker runs: one implementation.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * A Worker's `import m from "x.wasm"` is the compiled module (as wrangler
 * gives it); under Node it is compiled at load time, like vitest.config.ts does.
 */
const wasmModules = {
  name: "babypic-wasm-module",
  setup(build) {
    build.onLoad({ filter: /\.wasm$/ }, (args) => ({
      contents: `export default new WebAssembly.Module(Buffer.from(${JSON.stringify(readFileSync(args.path).toString("base64"))}, "base64"));`,
      loader: "js",
    }));
  },
};

export async function importWorkerModule(relPath) {
  const { build } = await import("esbuild");
  const outfile = join(ROOT, "node_modules", ".cache", "babypic", "worker-modules", relPath.replace(/[/\\]/g, "_").replace(/\.ts$/, ".mjs"));
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(ROOT, relPath)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    logLevel: "error",
    plugins: [wasmModules],
  });
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
}
