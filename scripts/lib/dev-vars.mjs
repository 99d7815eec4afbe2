// The ignored `.dev.vars` file: local secrets for `wrangler dev` (dotenv
// syntax, read by wrangler with dotenv + dotenv-expand). Values are generated
// by the same function the tests use (test/keys.ts), so local development has
// exactly the secret shapes that worker/env.ts checks in production.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { makeSecrets } from "../../test/keys.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// BABYPIC_DEV_VARS points setup/token at another file (their tests use it);
// wrangler itself always reads .dev.vars at the project root.
export const DEV_VARS = process.env.BABYPIC_DEV_VARS ?? fileURLToPath(new URL("../../.dev.vars", import.meta.url));

/** The secrets this file holds; CLERK_JWT_KEY and LOCAL_IDP_PRIVATE_KEY are one key pair. */
const PAIR = ["CLERK_JWT_KEY", "LOCAL_IDP_PRIVATE_KEY"];

/** Parsed `.dev.vars`, or null when it does not exist. */
export function readDevVars(path = DEV_VARS) {
  if (!existsSync(path)) return null;
  return parseEnv(readFileSync(path, "utf8"));
}

function quote(value) {
  // dotenv-expand would rewrite `$NAME`; none of our generated values has one,
  // and refusing here is better than a silently different key.
  if (value.includes("$")) throw new Error("refusing to write a value containing '$' to .dev.vars");
  // JSON key rings go in single quotes (literal); PEM keys in double quotes,
  // where dotenv turns `\n` back into newlines.
  if (value.includes("\n")) return `"${value.replace(/\n/g, "\\n")}"`;
  if (value.includes('"') || value.includes("'")) return `'${value}'`;
  return value;
}

function lines(secrets) {
  return Object.entries(secrets).map(([k, v]) => `${k}=${quote(v)}`);
}

const HEADER = [
  "# Local development secrets for `wrangler dev` (made by `npm run setup`).",
  "# Never commit this file; it is in .gitignore. Delete it to start over",
  "# (local users then need to sign in again). Optional extras you may add:",
  "#   FAL_KEY=...  use the real Fal.AI instead of the local fake (scripts/fal-local.mjs);",
  "#                then also replace FAL_ADMIN_KEY with your admin-scoped Fal key (payload deletion)",
  "#   CLERK_SECRET_KEY=...  CREEM_API_KEY=...",
  "",
];

/**
 * Creates `.dev.vars` with fresh secrets when missing; when it exists, adds
 * only the generated secrets it lacks. Returns what it did; never the values.
 */
export function ensureDevVars(path = DEV_VARS) {
  const fresh = makeSecrets();
  const current = readDevVars(path);
  if (!current) {
    try {
      // Create-only: two first runs at once (npm test starts several apps on a clean clone) must not
      // each write their own secrets, one of them then signing tokens the other's Worker refuses.
      writeFileSync(path, [...HEADER, ...lines(fresh), ""].join("\n"), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if (err?.code !== "EEXIST") throw err;
      return ensureDevVars(path);
    }
    return { created: true, added: Object.keys(fresh), problems: [] };
  }
  const missing = Object.keys(fresh).filter((k) => !current[k]);
  const problems = [];
  const missingPair = PAIR.filter((k) => missing.includes(k));
  if (missingPair.length === 1) {
    problems.push(`${missingPair[0]} is missing but its pair is present; delete .dev.vars and run npm run setup again`);
  }
  const add = Object.fromEntries(
    missing.filter((k) => !(missingPair.length === 1 && PAIR.includes(k))).map((k) => [k, fresh[k]]),
  );
  if (Object.keys(add).length) {
    const text = readFileSync(path, "utf8");
    writeFileSync(path, `${text.endsWith("\n") || text === "" ? text : `${text}\n`}${lines(add).join("\n")}\n`, { mode: 0o600 });
  }
  return { created: false, added: Object.keys(add), problems };
}
