// Account deletion at scale (issue 14): an account with N objects is deleted
// through the real deletion code (worker/services/deletion.ts) in bounded
// batches, one account.delete job per batch, for N = 100, 1 000, 10 000.
// Prints time and jobs against N, and the time per object relative to the
// smallest N measured in the same run (a ratio near 1 means linear cost).
//
//   node scripts/node.mjs bench/deletion/run.mjs [--sizes 100,1000,10000] [--batch 2000] [--json]
//   npm run bench:deletion
//
// Runs in Node over a throwaway local state (wrangler's getPlatformProxy:
// miniflare's D1 and R2, the same bindings `npm start` has), with the
// Worker's own code bundled by esbuild. Each account gets N small R2 objects
// and their D1 rows (written directly: how they were encrypted does not
// change what deleting them costs). The first run is deleteAccount (what
// DELETE /v1/account does); every account.delete job it enqueues is run next
// with resumeAccountDeletion, exactly what the queue consumer calls, until
// the account is gone. Only the deletion is timed, not the seeding.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureDevVars } from "../../scripts/lib/dev-vars.mjs";
import { openLocalState } from "../../scripts/lib/local-state.mjs";
import { importWorkerModule } from "../../scripts/lib/worker-module.mjs";
import { migrate } from "../../scripts/start.mjs";

const { values: opts } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000,10000" },
    batch: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const SIZES = opts.sizes.split(",").map(Number);
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const hex = (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, "0")).join("");

async function seed(env, userId, n) {
  const now = Date.now();
  await env.DB.prepare("INSERT INTO users (id, external_id, created_at) VALUES (?, ?, ?)").bind(userId, `user_bench_${userId.slice(4, 16)}`, now).run();
  const body = new Uint8Array(64);
  for (let i = 0; i < n; i += 50) {
    const ids = Array.from({ length: Math.min(50, n - i) }, () => `img_${hex(16)}`);
    await Promise.all(ids.map((id) => env.BUCKET.put(`u/${userId}/output/${id}`, body)));
    await env.DB.batch(
      ids.map((id) =>
        env.DB.prepare("INSERT INTO objects (id, user_id, kind, r2_key, content_type, bytes, created_at) VALUES (?, ?, 'output', ?, 'image/png', 64, ?)").bind(
          id,
          userId,
          `u/${userId}/output/${id}`,
          now,
        ),
      ),
    );
  }
}

async function countPrefix(bucket, prefix) {
  let n = 0;
  let cursor;
  do {
    const page = await bucket.list({ prefix, limit: 1000, ...(cursor ? { cursor } : {}) });
    n += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return n;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "babypic-bench-deletion-"));
  const devVars = join(dir, ".dev.vars");
  ensureDevVars(devVars);
  await migrate({ persistTo: dir });
  const ops = await importWorkerModule("worker/services/ops.ts");
  const batch = opts.batch ? Number(opts.batch) : ops.ACCOUNT_DELETE_BATCH;
  const state = await openLocalState(dir, devVars);
  const rows = [];
  try {
    for (const n of SIZES) {
      const userId = `usr_${hex(16)}`;
      log(`seeding ${n} objects`);
      await seed(state.env, userId, n);
      const jobs = [];
      const queue = { send: async (m) => void jobs.push(m), sendBatch: async (ms) => void jobs.push(...[...ms].map((m) => m.body)) };
      const s = ops.createServices({ ...state.env, JOBS: queue });
      const quiet = console.info;
      console.info = () => undefined;
      const t0 = performance.now();
      // An interrupted run enqueues a retry, as in production; a failing job is retried like the queue would.
      let res = await ops.deleteAccount(s, userId, { source: "user", objectBatch: batch });
      let runs = 1;
      let retries = 0;
      while (jobs.length) {
        const msg = jobs.shift();
        try {
          res = await ops.resumeAccountDeletion(s, msg.userId, { source: "queue", objectBatch: batch });
          runs++;
        } catch {
          retries++;
          if (retries > 10) throw new Error("too many failed jobs");
          jobs.unshift(msg);
        }
      }
      const ms = performance.now() - t0;
      console.info = quiet;
      const left = await countPrefix(state.env.BUCKET, `u/${userId}/`);
      if (res?.status !== "deleted" || left !== 0) throw new Error(`N=${n}: status ${res?.status}, ${left} objects left`);
      rows.push({ objects: n, ms: Math.round(ms), runs, retries, msPerObject: ms / n });
      log(`N=${n}: ${Math.round(ms)} ms in ${runs} runs (${retries} retried after an error)`);
    }
  } finally {
    await state.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0].msPerObject;
  const out = rows.map((r) => ({ ...r, msPerObject: Number(r.msPerObject.toFixed(3)), perObjectVsSmallest: Number((r.msPerObject / base).toFixed(2)) }));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ batch, rows: out })}\n`);
    return;
  }
  console.log(`account deletion, at most ${batch} objects per run (one account.delete job each)`);
  console.log("objects | time | runs (jobs) | retried | ms per object | per object vs smallest");
  for (const r of out) console.log(`${r.objects} | ${r.ms} ms | ${r.runs} | ${r.retries} | ${r.msPerObject} | ${r.perObjectVsSmallest}x`);
}

await main();
