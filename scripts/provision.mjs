// `npm run ops:provision -- --env staging|production`: creates or finds the
// Cloudflare resources wrangler.toml names for that environment, through
// wrangler (so its login or CLOUDFLARE_API_TOKEN is used):
//   D1 database   `wrangler d1 list --json`, else `wrangler d1 create <name>`; its id is written into wrangler.toml
//   R2 buckets    `wrangler r2 bucket list`, else `wrangler r2 bucket create <name>`
//   queues        `wrangler queues list`, else `wrangler queues create <name>` (incl. dead-letter queues)
//   KV namespaces `wrangler kv namespace list` (JSON), else `wrangler kv namespace create <title>`; id written into wrangler.toml
//   rate limits   nothing to create: their namespace_ids must be unique per account, checked here
// then lists the secrets still missing (`wrangler secret list`, names only;
// no value is ever read or printed). Safe to run again: it only adds.
// BABYPIC_WRANGLER runs another wrangler executable (the tests' fake).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEPLOYED_ENVS, OPTIONAL_SECRETS, PLACEHOLDER_ID, queueNames, readEnvConfig, REQUIRED_SECRETS, WRANGLER_TOML } from "./lib/deploy-config.mjs";
import { ROOT } from "./lib/dev-vars.mjs";

const log = (m) => console.log(`[provision] ${m}`);
function die(m, code = 1) {
  console.error(`[provision] ${m}`);
  process.exit(code);
}

let args;
try {
  args = parseArgs({ options: { env: { type: "string" }, help: { type: "boolean", short: "h", default: false } } }).values;
} catch (err) {
  die(`${err instanceof Error ? err.message : String(err)}; usage: npm run ops:provision -- --env ${DEPLOYED_ENVS.join("|")}`, 2);
}
if (args.help || !DEPLOYED_ENVS.includes(args.env ?? "")) die(`usage: npm run ops:provision -- --env ${DEPLOYED_ENVS.join("|")}`, args.help ? 0 : 2);
const env = args.env;

function wrangler(...argv) {
  const [cmd, pre] = process.env.BABYPIC_WRANGLER ? [process.env.BABYPIC_WRANGLER, []] : [process.execPath, [join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js")]];
  const r = spawnSync(cmd, [...pre, ...argv], { cwd: ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  return { ok: r.status === 0, out: r.stdout ?? "", err: r.stderr ?? "" };
}
function must(...argv) {
  const r = wrangler(...argv);
  // wrangler's own error text (no secret values pass through these commands).
  if (!r.ok) die(`wrangler ${argv.join(" ")} failed:\n${r.err || r.out}`);
  return r.out;
}
function json(text, what) {
  // wrangler may print a banner before the JSON.
  const start = text.search(/[[{]/);
  try {
    return JSON.parse(text.slice(start));
  } catch {
    return die(`could not read the JSON of ${what}`);
  }
}
/** Names in wrangler's table output (`│ id │ name │ …`) or `name: x` lines. */
function listedNames(text) {
  const names = new Set();
  for (const line of text.split("\n")) {
    const kv = /^\s*name:\s+(\S+)/.exec(line);
    if (kv?.[1]) names.add(kv[1]);
    for (const cell of line.split(/[│|]/)) if (cell.trim()) names.add(cell.trim());
  }
  return names;
}

let toml = readFileSync(WRANGLER_TOML, "utf8");
const config = await readEnvConfig(env);

// D1
for (const db of config.d1_databases ?? []) {
  const find = () => json(must("d1", "list", "--json"), "d1 list").find((d) => d.name === db.database_name);
  let found = find();
  if (found) log(`D1 ${db.database_name}: exists`);
  else {
    must("d1", "create", db.database_name);
    found = find();
    if (!found) die(`D1 ${db.database_name} was created but is not listed`);
    log(`D1 ${db.database_name}: created`);
  }
  if (db.database_id !== found.uuid) {
    const block = new RegExp(`(database_name\\s*=\\s*"${db.database_name}"\\s*\\n\\s*database_id\\s*=\\s*")[^"]*(")`);
    if (!block.test(toml)) die(`could not find database_id for ${db.database_name} in wrangler.toml`);
    toml = toml.replace(block, `$1${found.uuid}$2`);
    log(`D1 ${db.database_name}: database_id written to wrangler.toml`);
  }
}

// R2
const buckets = listedNames(must("r2", "bucket", "list"));
for (const b of config.r2_buckets ?? []) {
  if (buckets.has(b.bucket_name)) log(`R2 ${b.bucket_name}: exists`);
  else {
    must("r2", "bucket", "create", b.bucket_name);
    log(`R2 ${b.bucket_name}: created`);
  }
}

// Queues
const queues = listedNames(must("queues", "list"));
for (const q of queueNames(config)) {
  if (queues.has(q)) log(`queue ${q}: exists`);
  else {
    must("queues", "create", q);
    log(`queue ${q}: created`);
  }
}

// KV namespaces: titled "<worker name>-<binding>".
for (const kv of config.kv_namespaces ?? []) {
  const title = `${config.name}-${kv.binding}`;
  const find = () => json(must("kv", "namespace", "list"), "kv namespace list").find((n) => n.title === title);
  let found = find();
  if (found) log(`KV ${title}: exists`);
  else {
    must("kv", "namespace", "create", title);
    found = find();
    if (!found) die(`KV ${title} was created but is not listed`);
    log(`KV ${title}: created`);
  }
  if (kv.id !== found.id) {
    const block = new RegExp(`(\\[\\[env\\.${env}\\.kv_namespaces\\]\\]\\s*\\nbinding\\s*=\\s*"${kv.binding}"\\s*\\nid\\s*=\\s*")[^"]*(")`);
    if (!block.test(toml)) die(`could not find the id of KV ${kv.binding} in wrangler.toml`);
    toml = toml.replace(block, `$1${found.id}$2`);
    log(`KV ${title}: id written to wrangler.toml`);
  }
}

// Rate limits: nothing to create, but namespace ids must not collide across environments.
const others = await Promise.all(DEPLOYED_ENVS.filter((e) => e !== env).map((e) => readEnvConfig(e)));
const taken = new Set(others.flatMap((c) => (c.ratelimits ?? []).map((r) => String(r.namespace_id))));
for (const rl of config.ratelimits ?? []) {
  if (taken.has(String(rl.namespace_id))) die(`rate limit ${rl.name}: namespace_id ${rl.namespace_id} is also used by another environment`);
  log(`rate limit ${rl.name}: namespace ${rl.namespace_id} (${rl.simple.limit} per ${rl.simple.period} s), nothing to create`);
}

writeFileSync(WRANGLER_TOML, toml);
const still = (await readEnvConfig(env)).d1_databases.filter((d) => PLACEHOLDER_ID.test(d.database_id));
if (still.length) die(`wrangler.toml still has placeholder D1 ids: ${still.map((d) => d.database_name).join(", ")}`);

// Secrets: names only.
const listed = wrangler("secret", "list", "--env", env, "--format", "json");
const have = new Set(listed.ok ? json(listed.out, "secret list").map((s) => s.name) : []);
if (!listed.ok) log(`no secrets yet (the Worker ${config.name} is not deployed, or has none)`);
const missing = REQUIRED_SECRETS.filter((s) => !have.has(s));
const optional = OPTIONAL_SECRETS.filter((s) => !have.has(s));
if (missing.length) {
  log(`secrets still missing in ${env}: ${missing.join(" ")}`);
  log(`set each with: node scripts/node.mjs node_modules/wrangler/bin/wrangler.js secret put <NAME> --env ${env}`);
} else log(`all required secrets are set in ${env}`);
if (optional.length) log(`optional secrets not set: ${optional.join(" ")}`);
log(`done; commit wrangler.toml. Next: npm run deploy:dry-run`);
