// `npm run deploy:dry-run` (part of `npm run check`): for every environment,
// first checks the vars a deployment must publish (who we are: controller,
// DPO, contacts; worker/lib/who-we-are.ts), then bundles the Worker with
// `wrangler deploy --dry-run`, which validates the config and the bindings
// without contacting Cloudflare. All must pass.
// BABYPIC_WRANGLER_CONFIG and BABYPIC_DRY_RUN_ENVS (comma-separated labels:
// development, staging, production) point it elsewhere; its test uses them.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { unstable_readConfig } from "wrangler";
import { whoWeAreProblems } from "../worker/lib/who-we-are.ts";
import { ROOT } from "./lib/dev-vars.mjs";

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const CONFIG = resolve(ROOT, process.env.BABYPIC_WRANGLER_CONFIG ?? "wrangler.toml");
const ONLY = process.env.BABYPIC_DRY_RUN_ENVS?.split(",").map((s) => s.trim());
const ENVIRONMENTS = [
  { label: "development (top level)", name: "development", args: [] },
  { label: "staging", name: "staging", args: ["--env", "staging"] },
  { label: "production", name: "production", args: ["--env", "production"] },
].filter((e) => !ONLY || ONLY.includes(e.name));

let failed = 0;
for (const env of ENVIRONMENTS) {
  const vars = unstable_readConfig({ config: CONFIG, env: env.args[1] }, {}).vars ?? {};
  const problems = whoWeAreProblems(vars, env.name);
  if (problems.length) {
    failed++;
    console.error(`[dry-run] FAIL ${env.label}: ${problems.map((p) => `${p.name} ${p.message}`).join("; ")} (wrangler.toml vars; see docs/runbooks/deploy.md)`);
    continue;
  }
  const outdir = mkdtempSync(join(tmpdir(), "babypic-dry-run-"));
  const started = Date.now();
  const result = spawnSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--config", CONFIG, "--outdir", outdir, ...env.args], {
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
