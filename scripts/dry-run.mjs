// `npm run deploy:dry-run` (part of `npm run check`): bundles the Worker for
// every environment with `wrangler deploy --dry-run`, which validates the
// config and the bindings without contacting Cloudflare. All must pass.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./lib/dev-vars.mjs";

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const ENVIRONMENTS = [
  { label: "development (top level)", args: [] },
  { label: "staging", args: ["--env", "staging"] },
  { label: "production", args: ["--env", "production"] },
];

let failed = 0;
for (const env of ENVIRONMENTS) {
  const outdir = mkdtempSync(join(tmpdir(), "babypic-dry-run-"));
  const started = Date.now();
  const result = spawnSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir, ...env.args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  rmSync(outdir, { recursive: true, force: true });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    const size = /Total Upload: ([^\n]+)/.exec(result.stdout)?.[1];
    console.log(`[dry-run] ok   ${env.label}${size ? ` (${size.trim()})` : ""} in ${seconds} s`);
  } else {
    failed++;
    console.error(`[dry-run] FAIL ${env.label} (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
}
if (failed) process.exit(1);
