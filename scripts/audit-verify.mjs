#!/usr/bin/env node
/**
 * npm run audit:verify -- <userId | --all> [--persist-to <dir>]
 * npm run audit:verify -- --export <export.zip> [--keys <keys.json>]
 *
 * Verifies activity logs with the very code the Activity page runs in the
 * browser (worker/lib/audit-verify.ts, bundled with esbuild: one
 * implementation): the hash chain and every Ed25519 checkpoint.
 *
 * - Local mode reads the LOCAL D1 (the state `npm start` uses under
 *   .wrangler/, or --persist-to) with one SELECT per table through
 *   `wrangler d1 execute --local --json`, and takes the public keys from the
 *   local .dev.vars (AUDIT_SIGNING_KEYS).
 * - Export mode reads audit-log.json and checkpoints.json from a data export
 *   ZIP. The keys default to the ones the export lists; pass --keys with the
 *   answer of GET /v1/audit/keys (saved earlier or fetched independently) to
 *   check against keys you did not get from the same file.
 *
 * Exits 0 when everything verifies, 1 when a log is broken (printing the
 * first bad seq and why), 2 on usage, file or query errors. Reads only.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { importWorkerModule, ROOT } from "./lib/worker-module.mjs";

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const USER_ID = /^usr_[0-9a-f]{32}$/;
const USAGE = "usage: npm run audit:verify -- <userId | --all> [--persist-to <dir>]\n       npm run audit:verify -- --export <export.zip> [--keys <keys.json>]";

function usage(message) {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

function fail(message) {
  console.error(message);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { target: null, persistTo: null, exportPath: null, keysPath: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--persist-to") opts.persistTo = argv[++i] ?? usage("--persist-to needs a directory");
    else if (a === "--export") opts.exportPath = argv[++i] ?? usage("--export needs a ZIP file");
    else if (a === "--keys") opts.keysPath = argv[++i] ?? usage("--keys needs a JSON file");
    else if (a === "--all" || USER_ID.test(a)) {
      if (opts.target) usage("give one user id or --all");
      opts.target = a;
    } else if (a === "-h" || a === "--help") usage();
    else usage(`not a user id (usr_ + 32 hex) or option: ${a}`);
  }
  if (opts.exportPath && (opts.target || opts.persistTo)) usage("--export takes no user id or --persist-to");
  if (!opts.exportPath && !opts.target) usage();
  if (opts.keysPath && !opts.exportPath) usage("--keys goes with --export (local mode reads .dev.vars)");
  return opts;
}

/** Runs one or more `;`-separated statements; returns each statement's rows. */
function query(sql, persistTo, { optional = false } = {}) {
  const args = [WRANGLER, "d1", "execute", "DB", "--local", "--json", "--command", sql];
  if (persistTo) args.push("--persist-to", persistTo);
  const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (res.status !== 0) {
    // A local database migrated before checkpoints existed has no such table.
    if (optional && /no such table/.test(res.stdout + res.stderr)) return null;
    fail(`wrangler d1 execute failed (exit ${res.status}):\n${res.stderr || res.stdout}`);
  }
  let parsed;
  try {
    parsed = JSON.parse(res.stdout.slice(res.stdout.indexOf("[")));
  } catch {
    fail("could not parse wrangler's JSON output");
  }
  if (!Array.isArray(parsed) || !parsed.every((r) => Array.isArray(r?.results))) fail("unexpected wrangler output shape");
  return parsed.map((r) => r.results);
}

/** D1 columns (snake_case) to the entry shape the verifier hashes. */
function toEntry(r) {
  return {
    userId: r.user_id,
    seq: r.seq,
    at: r.at,
    actorType: r.actor_type,
    actorId: r.actor_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    requestId: r.request_id,
    ipPrefix: r.ip_prefix,
    userAgent: r.user_agent,
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Public keys of the local ring (.dev.vars), in the /v1/audit/keys shape. */
async function localKeys() {
  const { readDevVars } = await import("./lib/dev-vars.mjs");
  const raw = readDevVars()?.["AUDIT_SIGNING_KEYS"];
  if (!raw) return [];
  try {
    const ring = JSON.parse(raw);
    return Object.entries(ring.keys).map(([kid, k]) => ({
      kty: "OKP",
      crv: "Ed25519",
      x: k.x,
      kid,
      status: kid === ring.current ? "current" : "retired",
      retiredAt: k.retiredAt ?? null,
    }));
  } catch {
    fail("AUDIT_SIGNING_KEYS in .dev.vars is not JSON");
  }
}

function groupBy(rows) {
  const m = new Map();
  for (const r of rows) {
    const list = m.get(r.userId) ?? [];
    list.push(r);
    m.set(r.userId, list);
  }
  return m;
}

function report(v, userId, result) {
  if (result.ok) {
    console.log(`ok      ${userId}  ${result.entries} entries, ${result.checkpoints} checkpoints (signed up to seq ${result.anchoredSeq})`);
    return 0;
  }
  console.log(`BROKEN  ${userId}  at seq ${result.seq}: ${result.reason}`);
  console.log(`        ${v.describeVerifyResult(result)}`);
  return 1;
}

async function verifyLocal(v, { target, persistTo }) {
  const columns = "user_id, seq, at, actor_type, actor_id, action, target_type, target_id, request_id, ip_prefix, user_agent, detail, prev_hash, hash";
  // The id was checked against USER_ID above, so it is safe to inline (wrangler has no bind parameters).
  const where = target === "--all" ? "" : ` WHERE user_id = '${target}'`;
  const logSql = `SELECT ${columns} FROM audit_log${where} ORDER BY user_id, seq`;
  const cpSql = `SELECT user_id, seq, head, created_at, key_id, sig FROM audit_checkpoints${where} ORDER BY user_id, created_at`;
  // One wrangler run for both tables; a database without the checkpoints table gets the log alone.
  const [logRows = [], cpRows = []] = query(`${logSql}; ${cpSql}`, persistTo, { optional: true }) ?? query(logSql, persistTo) ?? [];
  const chains = groupBy(logRows.map(toEntry));
  const cps = groupBy(
    cpRows.map((r) => ({ userId: r.user_id, seq: r.seq, head: r.head, time: new Date(r.created_at).toISOString(), keyId: r.key_id, sig: r.sig })),
  );
  if (target !== "--all" && chains.size === 0 && cps.size === 0) {
    console.log(`${target}: no audit entries`);
    return 0;
  }
  const keys = await localKeys();
  let broken = 0;
  for (const userId of new Set([...chains.keys(), ...cps.keys()])) {
    const result = await v.verifyAuditLog({ userId, entries: chains.get(userId) ?? [], checkpoints: cps.get(userId) ?? [], keys });
    broken += report(v, userId, result);
  }
  console.log(`${new Set([...chains.keys(), ...cps.keys()]).size} log(s) checked, ${broken} broken`);
  return broken === 0 ? 0 : 1;
}

function readJson(files, name) {
  const bytes = files[name];
  if (!bytes) fail(`the export has no ${name}`);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    fail(`${name} is not valid JSON`);
  }
}

async function verifyExport(v, { exportPath, keysPath }) {
  let files;
  try {
    files = unzipSync(new Uint8Array(readFileSync(exportPath)));
  } catch (err) {
    fail(`cannot read ${exportPath} as a ZIP: ${err instanceof Error ? err.message : String(err)}`);
  }
  const manifest = readJson(files, "manifest.json");
  const log = readJson(files, "audit-log.json");
  const cpFile = readJson(files, "checkpoints.json");
  const userId = manifest?.userId;
  if (typeof userId !== "string" || !Array.isArray(log?.entries) || !Array.isArray(cpFile?.checkpoints)) fail("the export's manifest, audit log or checkpoints have an unexpected shape");
  let keys = cpFile.keys;
  if (keysPath) {
    try {
      keys = JSON.parse(readFileSync(keysPath, "utf8")).keys;
    } catch {
      fail(`${keysPath} is not a key set (the JSON of GET /v1/audit/keys)`);
    }
  } else {
    console.log("note: using the public keys listed in the export itself; pass --keys with GET /v1/audit/keys to check against keys from elsewhere");
  }
  if (!Array.isArray(keys)) fail("no key set");
  const result = await v.verifyAuditLog({ userId, entries: log.entries, checkpoints: cpFile.checkpoints, keys });
  const code = report(v, userId, result);
  if (result.ok) console.log(`        ${v.describeVerifyResult(result)}`);
  return code;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const v = await importWorkerModule("worker/lib/audit-verify.ts");
  return opts.exportPath ? verifyExport(v, opts) : verifyLocal(v, opts);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
