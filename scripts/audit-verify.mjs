#!/usr/bin/env node
/**
 * npm run audit:verify -- <userId | --all> [--persist-to <dir>]
 *
 * Verifies per-user audit hash chains in the LOCAL D1 (the state `npm start`
 * uses under .wrangler/, or --persist-to), with the very same verifyChain the
 * Worker and the tests use (worker/services/audit.ts, bundled with esbuild so
 * there is one implementation). Exits 0 when every chain verifies, 1 when any
 * is broken (printing the first bad seq and why), 2 on usage or query errors.
 *
 * Reads only: it runs one SELECT through `wrangler d1 execute --local --json`.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { importWorkerModule, ROOT } from "./lib/worker-module.mjs";

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const USER_ID = /^usr_[0-9a-f]{32}$/;

function usage(message) {
  if (message) console.error(message);
  console.error("usage: npm run audit:verify -- <userId | --all> [--persist-to <dir>]");
  process.exit(2);
}

function parseArgs(argv) {
  let target = null;
  let persistTo = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--persist-to") {
      persistTo = argv[++i] ?? usage("--persist-to needs a directory");
    } else if (a === "--all" || USER_ID.test(a)) {
      if (target) usage("give one user id or --all");
      target = a;
    } else if (a === "-h" || a === "--help") {
      usage();
    } else {
      usage(`not a user id (usr_ + 32 hex) or option: ${a}`);
    }
  }
  if (!target) usage();
  return { target, persistTo };
}

/** verifyChain from the Worker source, bundled for Node once per run. */
async function loadVerifyChain() {
  return (await importWorkerModule("worker/services/audit.ts")).verifyChain;
}

function query(sql, persistTo) {
  const args = [WRANGLER, "d1", "execute", "DB", "--local", "--json", "--command", sql];
  if (persistTo) args.push("--persist-to", persistTo);
  const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (res.status !== 0) {
    console.error(`wrangler d1 execute failed (exit ${res.status}):\n${res.stderr || res.stdout}`);
    process.exit(2);
  }
  const start = res.stdout.indexOf("[");
  let parsed;
  try {
    parsed = JSON.parse(res.stdout.slice(start));
  } catch {
    console.error("could not parse wrangler's JSON output");
    process.exit(2);
  }
  const results = parsed?.[0]?.results;
  if (!Array.isArray(results)) {
    console.error("unexpected wrangler output shape");
    process.exit(2);
  }
  return results;
}

/** D1 columns (snake_case) to the drizzle row shape verifyChain hashes. */
function toRow(r) {
  return {
    id: r.id,
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

async function main() {
  const { target, persistTo } = parseArgs(process.argv.slice(2));
  const verifyChain = await loadVerifyChain();
  const columns =
    "id, user_id, seq, at, actor_type, actor_id, action, target_type, target_id, request_id, ip_prefix, user_agent, detail, prev_hash, hash";
  // The id was checked against USER_ID above, so it is safe to inline (wrangler has no bind parameters).
  const where = target === "--all" ? "" : ` WHERE user_id = '${target}'`;
  const rows = query(`SELECT ${columns} FROM audit_log${where} ORDER BY user_id, seq`, persistTo).map(toRow);

  const chains = new Map();
  for (const row of rows) {
    const list = chains.get(row.userId) ?? [];
    list.push(row);
    chains.set(row.userId, list);
  }
  if (target !== "--all" && chains.size === 0) {
    console.log(`${target}: no audit entries`);
    return 0;
  }
  let broken = 0;
  for (const [userId, chain] of chains) {
    const result = await verifyChain(chain);
    if (result.ok) {
      console.log(`ok      ${userId}  ${result.entries} entries`);
    } else {
      broken++;
      console.log(`BROKEN  ${userId}  at seq ${result.seq}: ${result.reason}`);
    }
  }
  console.log(`${chains.size} chain(s) checked, ${broken} broken`);
  return broken === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
