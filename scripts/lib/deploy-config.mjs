// What a deployed environment needs, read from wrangler.toml: shared by
// `npm run ops:provision` (creates what is missing) and `npm run
// deploy:dry-run` (fails while anything required is empty or a placeholder).
// BABYPIC_WRANGLER_TOML points both at another file (their tests use it).
import { join } from "node:path";
import { ROOT } from "./dev-vars.mjs";
import { REQUIRED_SECRETS as ALL_REQUIRED_SECRETS } from "../../worker/lib/secrets.ts";

export const WRANGLER_TOML = process.env.BABYPIC_WRANGLER_TOML ?? join(ROOT, "wrangler.toml");
export const DEPLOYED_ENVS = ["staging", "production"];

/**
 * Secrets (`wrangler secret put`) a deployed Worker refuses to run without
 * (worker/env.ts) or, for FAL_ADMIN_KEY, that Fal payload deletion needs
 * (issue 17, item 8). Names only: values are never read here.
 */
export const REQUIRED_SECRETS = [...ALL_REQUIRED_SECRETS];
/** Mail through Resend; without them mail waits in the D1 outbox. */
export const OPTIONAL_SECRETS = ["MAIL_API_KEY", "MAIL_FROM"];

/** The ids committed before provisioning: `00000000-0000-4000-8000-00000000000N`. */
export const PLACEHOLDER_ID = /^0{8}-0{4}-4000-8000-0{12}$|^0{8}-0{4}-4000-8000-0{11}[0-9]$/;

export async function readEnvConfig(env, configPath = WRANGLER_TOML) {
  const { unstable_readConfig } = await import("wrangler");
  return unstable_readConfig({ config: configPath, env }, { hideWarnings: true });
}

/** Every queue the environment uses: producers, consumers and dead-letter queues. */
export function queueNames(config) {
  const names = new Set();
  for (const p of config.queues?.producers ?? []) names.add(p.queue);
  for (const c of config.queues?.consumers ?? []) {
    names.add(c.queue);
    if (c.dead_letter_queue) names.add(c.dead_letter_queue);
  }
  return [...names];
}

/** `pk_test_<base64 of "<frontend api host>$">` (Clerk's publishable key format); the host, or null. */
export function clerkHostFromKey(key) {
  const m = /^pk_(test|live)_([A-Za-z0-9+/=_-]+)$/.exec(key ?? "");
  if (!m) return null;
  try {
    const decoded = Buffer.from(m[2], "base64").toString("utf8");
    return /^[a-z0-9.-]+\.[a-z]{2,}\$$/i.test(decoded) ? decoded.slice(0, -1) : null;
  } catch {
    return null;
  }
}

/** What is empty or still a placeholder in one deployed environment (messages name variables, never values of secrets). */
export function deployProblems(env, config) {
  const problems = [];
  const vars = config.vars ?? {};
  for (const d of config.d1_databases ?? []) {
    if (!d.database_id || PLACEHOLDER_ID.test(d.database_id)) problems.push(`D1 ${d.binding} (${d.database_name}): database_id is a placeholder; run npm run ops:provision -- --env ${env}`);
  }
  if (!(config.d1_databases ?? []).length) problems.push("no D1 database binding");
  for (const b of config.r2_buckets ?? []) if (!b.bucket_name) problems.push(`R2 ${b.binding}: bucket_name is empty`);
  if (!(config.r2_buckets ?? []).length) problems.push("no R2 bucket binding");
  for (const q of queueNames(config)) if (!q) problems.push("a queue name is empty");
  if (!queueNames(config).length) problems.push("no queues");
  for (const k of config.kv_namespaces ?? []) if (!k.id || PLACEHOLDER_ID.test(k.id)) problems.push(`KV ${k.binding}: id is a placeholder`);
  let products = {};
  try {
    products = JSON.parse(String(vars.CREEM_PRODUCTS ?? ""));
  } catch {
    problems.push("CREEM_PRODUCTS is not JSON");
  }
  if (!products || typeof products !== "object" || !Object.keys(products).length) problems.push("CREEM_PRODUCTS is empty ({}): list the Creem product ids and their credits");
  const key = String(vars.CLERK_PUBLISHABLE_KEY ?? "");
  if (!key) problems.push("CLERK_PUBLISHABLE_KEY is empty: the SPA build needs it (Clerk dashboard → API keys)");
  else if (!clerkHostFromKey(key)) problems.push("CLERK_PUBLISHABLE_KEY is not a Clerk publishable key (pk_test_… / pk_live_…)");
  else if (env === "production" && !key.startsWith("pk_live_")) problems.push("CLERK_PUBLISHABLE_KEY must be a pk_live_ key in production");
  for (const name of ["APP_ORIGIN", "PUBLIC_API_URL", "CLERK_AUTHORIZED_PARTIES"]) if (!vars[name]) problems.push(`${name} is empty`);
  // The local development users (worker/auth/local-idp.ts) as admins or engineers of a deployment (decision 0019).
  for (const name of ["ADMIN_USER_IDS", "ENGINEER_USER_IDS"]) {
    if (String(vars[name] ?? "").split(",").some((id) => id.trim().startsWith("user_local_"))) problems.push(`${name} names a local development user (user_local_…)`);
  }
  return problems;
}
