// The local state `npm start` uses (wrangler dev's --persist-to, default
// .wrangler/state) opened from Node with wrangler's getPlatformProxy: the same
// D1, R2 buckets, vars and .dev.vars secrets the local Worker sees. Used by
// the ops commands (scripts/ops-backup.mjs, scripts/ops-restore-drill.mjs).
import { join, resolve } from "node:path";
import { DEV_VARS, ROOT, readDevVars } from "./dev-vars.mjs";

/** The directory wrangler dev keeps its state in for `--persist-to <dir>` (it adds v3/). */
export function stateDir(persistTo) {
  return join(resolve(ROOT, persistTo ?? ".wrangler/state"), "v3");
}

/**
 * Bindings over the local state under `persistTo`, with the secrets of
 * `.dev.vars` (or BABYPIC_DEV_VARS); call dispose() when done.
 */
export async function openLocalState(persistTo, devVarsPath = DEV_VARS) {
  const secrets = readDevVars(devVarsPath);
  if (!secrets) throw new Error(`no ${devVarsPath}: run \`npm run setup\` (or \`npm start\`) first`);
  const { getPlatformProxy } = await import("wrangler");
  const proxy = await getPlatformProxy({ configPath: join(ROOT, "wrangler.toml"), persist: { path: stateDir(persistTo) }, remoteBindings: false });
  return { env: { ...proxy.env, ...secrets }, dispose: () => proxy.dispose() };
}

/**
 * Keeps stdout for the command's one result line: everything else a library
 * prints (wrangler's own notices) goes to stderr.
 */
export function quietStdout() {
  const write = process.stdout.write.bind(process.stdout);
  for (const level of ["log", "info", "debug"]) console[level] = (...args) => console.error(...args);
  process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);
  return (line) => write(`${line}\n`);
}

/** `--persist-to <dir>` and other `--name value` options; exits 2 on anything else. */
export function parseOptions(argv, names, usage) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]?.replace(/^--/, "");
    if (!argv[i]?.startsWith("--") || !names.includes(name) || argv[i + 1] === undefined) {
      console.error(usage);
      process.exit(2);
    }
    out[name] = argv[++i];
  }
  return out;
}
