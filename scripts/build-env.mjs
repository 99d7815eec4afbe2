// `npm run ops:build -- --env staging|production`: builds the SPA for a
// deployed environment from the values in wrangler.toml, so the API origin,
// the Clerk key (and with it the CSP in web/dist/_headers) come from one place:
//   VITE_API_URL               <- PUBLIC_API_URL
//   VITE_CLERK_PUBLISHABLE_KEY <- CLERK_PUBLISHABLE_KEY (required)
//   VITE_IDLE_TIMEOUT_MINUTES  <- IDLE_TIMEOUT_MINUTES (optional, default 30)
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { clerkHostFromKey, DEPLOYED_ENVS, readEnvConfig } from "./lib/deploy-config.mjs";
import { ROOT } from "./lib/dev-vars.mjs";

const { env } = parseArgs({ options: { env: { type: "string" } } }).values;
if (!DEPLOYED_ENVS.includes(env ?? "")) {
  console.error(`[build] usage: npm run ops:build -- --env ${DEPLOYED_ENVS.join("|")}`);
  process.exit(2);
}
const vars = (await readEnvConfig(env)).vars ?? {};
const key = String(vars.CLERK_PUBLISHABLE_KEY ?? "");
if (!clerkHostFromKey(key)) {
  console.error(`[build] CLERK_PUBLISHABLE_KEY in [env.${env}.vars] is empty or not a Clerk publishable key`);
  process.exit(1);
}
const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "web/vite.config.ts"], {
  cwd: ROOT,
  stdio: "inherit",
  env: {
    ...process.env,
    VITE_API_URL: String(vars.PUBLIC_API_URL ?? ""),
    VITE_CLERK_PUBLISHABLE_KEY: key,
    ...(vars.IDLE_TIMEOUT_MINUTES ? { VITE_IDLE_TIMEOUT_MINUTES: String(vars.IDLE_TIMEOUT_MINUTES) } : {}),
  },
});
process.exit(r.status ?? 1);
