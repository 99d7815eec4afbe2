// Secrets a deployed Worker needs, checked by `npm run deploy:dry-run` against
// what Cloudflare holds (`wrangler secret list`, names only; values are never
// read or printed). The production list is the one worker/env.ts enforces at
// startup, so the dry run fails before a deploy that would refuse to run.
import { spawnSync } from "node:child_process";
import { REQUIRED_SECRETS as ALL_REQUIRED } from "../../worker/lib/secrets.ts";

export const REQUIRED_SECRETS = {
  staging: [...ALL_REQUIRED],
  production: [...ALL_REQUIRED],
};

/** The required names missing from `present`. */
export function missingSecrets(env, present) {
  const required = REQUIRED_SECRETS[env];
  if (!required) throw new Error(`unknown environment ${env}`);
  const have = new Set(present);
  return required.filter((name) => !have.has(name));
}

/**
 * Names of the secrets set on the environment's Worker, through wrangler
 * (needs Cloudflare credentials), or null when wrangler cannot tell.
 */
export function listSecretNames(env, { wrangler, cwd, run = spawnSync } = {}) {
  const res = run(process.execPath, [wrangler, "secret", "list", "--env", env, "--format", "json"], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  if (res.status !== 0) return null;
  try {
    const list = JSON.parse(res.stdout);
    return Array.isArray(list) ? list.map((s) => String(s.name)) : null;
  } catch {
    return null;
  }
}
