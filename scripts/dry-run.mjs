// `npm run deploy:dry-run` (part of `npm run check`): bundles the Worker for
// every environment with `wrangler deploy --dry-run`, which validates the
// config and the bindings without contacting Cloudflare. All must pass.
// Then, for staging and production, the required secrets (FAL_ADMIN_KEY among
// them) must be set on Cloudflare: checked by name with `wrangler secret list`
// when Cloudflare credentials are present (CLOUDFLARE_API_TOKEN), required with
// --require-secrets (what the deploy runbook runs), otherwise listed as unchecked.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./lib/dev-vars.mjs";
import { listSecretNames, missingSecrets } from "./lib/required-secrets.mjs";

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
const requireSecrets = process.argv.includes("--require-secrets");
for (const env of ["staging", "production"]) {
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
