// `npm run -s token -- alice`: prints a local session JWT for a local user, so
// the API can be tried with curl the way an integrator would:
//   curl -H "Authorization: Bearer $(npm run -s token -- alice)" http://127.0.0.1:8787/v1/me
// `--verified-minutes-ago N` sets the token's `fva` claim (Clerk's factor
// verification age) so that its last sign-in check is N minutes old (default
// 0); sensitive actions refuse N >= 10 with 403 reverification_required.
// Development only: it signs with LOCAL_IDP_PRIVATE_KEY from the ignored
// .dev.vars, through the Worker's own signer (worker/auth/local-idp.ts).
import { parseArgs } from "node:util";
import { LOCAL_USERS, signLocalSession } from "../worker/auth/local-idp.ts";
import { readDevVars } from "./lib/dev-vars.mjs";
import { runningApp } from "./start.mjs";

const DEFAULT_APP_ORIGIN = "http://127.0.0.1:5173";

function fail(message, code = 1) {
  console.error(`[token] ${message}`);
  process.exit(code);
}

/** The `azp` claim must be an authorized party of the local Worker: its APP_ORIGIN (the running `npm start`'s, on whatever port). */
async function appOrigin(devVars) {
  if (devVars.APP_ORIGIN) return devVars.APP_ORIGIN;
  const running = runningApp();
  if (running) return running.appOrigin;
  try {
    const { unstable_readConfig } = await import("wrangler");
    const vars = unstable_readConfig({ config: new URL("../wrangler.toml", import.meta.url).pathname }, { hideWarnings: true }).vars;
    return typeof vars?.APP_ORIGIN === "string" ? vars.APP_ORIGIN : DEFAULT_APP_ORIGIN;
  } catch {
    return DEFAULT_APP_ORIGIN;
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ttl: { type: "string", default: "3600" },
    "verified-minutes-ago": { type: "string", default: "0" },
    help: { type: "boolean", short: "h", default: false },
  },
});
const names = LOCAL_USERS.map((u) => u.id).join(", ");
if (values.help || positionals.length !== 1) {
  fail(`usage: npm run -s token -- <user> [--ttl seconds] [--verified-minutes-ago N]   (local users: ${names})`, values.help ? 0 : 2);
}
const user = positionals[0];
if (!LOCAL_USERS.some((u) => u.id === user)) fail(`unknown local user "${user}"; choose one of: ${names}`, 2);
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400) fail("--ttl must be a whole number of seconds between 60 and 86400", 2);
const verifiedMinutesAgo = Number(values["verified-minutes-ago"]);
if (!/^\d+$/.test(values["verified-minutes-ago"]) || verifiedMinutesAgo > 525_600) fail("--verified-minutes-ago must be a whole number of minutes (0 to 525600)", 2);

const devVars = readDevVars();
if (!devVars?.LOCAL_IDP_PRIVATE_KEY) fail("no LOCAL_IDP_PRIVATE_KEY in .dev.vars: run `npm run setup` (or `npm start`) first");
if (devVars.ENVIRONMENT && devVars.ENVIRONMENT !== "development") fail("local tokens exist only for ENVIRONMENT=development");

const nowSeconds = Math.floor(Date.now() / 1000);
const token = await signLocalSession({
  privateKeyPem: devVars.LOCAL_IDP_PRIVATE_KEY,
  user,
  azp: await appOrigin(devVars),
  ttlSeconds: ttl,
  nowSeconds,
  verifiedAtSeconds: nowSeconds - verifiedMinutesAgo * 60,
});
process.stdout.write(`${token}\n`);
