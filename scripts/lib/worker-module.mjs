// Bundles a Worker module for Node with esbuild (already installed with
// wrangler), so benchmarks and scripts (audit:verify) run the very code the
// Worker runs: one implementation.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

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
  });
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
}
