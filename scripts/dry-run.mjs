// `npm run deploy:dry-run`: bundles the Worker for every environment with
// `wrangler deploy --dry-run`, which validates the config and the bindings
// without contacting Cloudflare, then fails while a deployed environment has a
// required value empty or still a placeholder (Creem products `{}`, the Clerk
// publishable key, D1/KV placeholder ids; scripts/lib/deploy-config.mjs).
// `--bundle-only` (what `npm run check` runs) skips that second part, so a
// clone that has not been provisioned can still be checked.
// `--env staging` limits both parts to one environment.
// Who we are (controller, DPO, contacts; worker/lib/who-we-are.ts) is checked
// before bundling: always for development, and for staging and production
// unless --bundle-only. BABYPIC_WRANGLER_CONFIG and BABYPIC_DRY_RUN_ENVS
// (comma-separated: development, staging, production) point it elsewhere.
// For staging and production the required secrets (FAL_ADMIN_KEY among
// them) are checked by name with `wrangler secret list` when Cloudflare
// credentials are present (CLOUDFLARE_API_TOKEN), required with
// --require-secrets (what the deploy runbook runs), otherwise listed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { whoWeAreProblems } from "../worker/lib/who-we-are.ts";
import { deployProblems, DEPLOYED_ENVS, readEnvConfig, WRANGLER_TOML } from "./lib/deploy-config.mjs";
import { ROOT } from "./lib/dev-vars.mjs";
import { listSecretNames, missingSecrets } from "./lib/required-secrets.mjs";

const opts = parseArgs({ options: { "bundle-only": { type: "boolean", default: false }, env: { type: "string" } } }).values;
if (opts.env && !DEPLOYED_ENVS.includes(opts.env)) {
  console.error(`[dry-run] --env must be one of ${DEPLOYED_ENVS.join(", ")}`);
  process.exit(2);
}

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const CONFIG = resolve(ROOT, process.env.BABYPIC_WRANGLER_CONFIG ?? WRANGLER_TOML);
const ONLY = opts.env ? [opts.env] : process.env.BABYPIC_DRY_RUN_ENVS?.split(",").map((e) => e.trim());
const ENVIRONMENTS = [
  { label: "development (top level)", name: "development", args: [] },
  { label: "staging", name: "staging", args: ["--env", "staging"] },
  { label: "production", name: "production", args: ["--env", "production"] },
].filter((e) => !ONLY || ONLY.includes(e.name));

let failed = 0;
for (const env of ENVIRONMENTS) {
  if (env.name === "development" || !opts["bundle-only"]) {
    const vars = unstable_readConfig({ config: CONFIG, env: env.args[1] }, { hideWarnings: true }).vars ?? {};
    const problems = whoWeAreProblems(vars, env.name);
    if (problems.length) {
      failed++;
      console.error(`[dry-run] FAIL ${env.label}: ${problems.map((p) => `${p.name} ${p.message}`).join("; ")} (wrangler.toml vars; see docs/runbooks/deploy.md)`);
      continue;
    }
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
if (!opts["bundle-only"]) {
  for (const env of DEPLOYED_ENVS.filter((e) => !ONLY || ONLY.includes(e))) {
    const problems = deployProblems(env, await readEnvConfig(env, CONFIG));
    if (problems.length) {
      failed++;
      console.error(`[dry-run] FAIL ${env}: not ready to deploy:\n  - ${problems.join("\n  - ")}`);
    } else console.log(`[dry-run] ok   ${env}: every required value is set`);
  }
}
const requireSecrets = process.argv.includes("--require-secrets");
for (const env of opts["bundle-only"] ? [] : DEPLOYED_ENVS.filter((e) => !ONLY || ONLY.includes(e))) {
  if (!process.env.CLOUDFLARE_API_TOKEN && !requireSecrets) {
    console.log(`[dry-run] secrets of ${env} not checked (no CLOUDFLARE_API_TOKEN); a deploy needs: ${missingSecrets(env, []).join(", ")}`);
    continue;
  }
  const names = listSecretNames(env, { wrangler: WRANGLER, cwd: ROOT });
  if (names === null) {
    failed++;
    console.error(`[dry-run] FAIL secrets of ${env}: wrangler secret list did not answer (log in or set CLOUDFLARE_API_TOKEN)`);
    continue;
  }
  const missing = missingSecrets(env, names);
  if (missing.length) {
    failed++;
    console.error(`[dry-run] FAIL ${env} is missing secrets: ${missing.join(", ")} (wrangler secret put <NAME> --env ${env})`);
  } else {
    console.log(`[dry-run] ok   secrets of ${env} (${names.length} set)`);
  }
}
if (failed) process.exit(1);
