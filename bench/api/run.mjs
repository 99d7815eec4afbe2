// npm run bench:api [-- --duration 10 --connections 8]   (--connections 1,8: each count in turn)
//   --targets health,generation,me   only these targets, no Goals block (a quick look)
//   --profile                        also a CPU profile of the Worker (bench/api/profile.mjs)
//
// 1. API latency: starts its own `wrangler dev` (local D1/R2, throwaway state,
//    rate limits raised so the benchmark measures work, not 429s), seeds one
//    completed generation with an output for the local user "alice", then
//    drives `GET /v1/health` and the authenticated `GET /v1/generations/:id`
//    with autocannon, same connections and duration, and prints p50/p99 of
//    each and their ratio (goal: p50 <= 2x health). The generation read does
//    the real work: session JWT verification, user + deletion lookup (one
//    query), rate limit, one D1 batch reading the owner-scoped row and its
//    outputs (the user's data key loading from R2 alongside), a signed link
//    per output, and one D1 batch recording both audit entries
//    (generation.viewed, link.issued) in audit_pending; they are chained after
//    the answer (docs/decisions/0018). Goals: p50 <= 2x health, and `/v1/me`
//    <= 1.3x health.
// 2. Scale (issue 15 item 6): the activity page's API (`GET /v1/account/audit?limit=100`)
//    and the gallery list (`GET /v1/generations?limit=24`) for "bob", seeded
//    with 10,000 audit entries and 1,000 completed generations (one output
//    each), against "carol", who starts with none. Goal: p50 within 1.2x.
// 3. Signed-link verification cost per call in Node (bench/api/signed-link.mjs).
//
// Prints a JSON summary last; results are recorded in docs/benchmarks.md.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { ROOT } from "../../scripts/lib/worker-module.mjs";
import { benchSignedLink } from "./signed-link.mjs";
import { profiled } from "./profile.mjs";
import { DEV_VARS } from "../../scripts/lib/dev-vars.mjs";
import { setup } from "../../scripts/setup.mjs";
import { freePort, Service, stopAll, waitForHttp } from "../../scripts/start.mjs";

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const OFFLINE_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_UPDATE_NOTIFIER: "1", CI: "true" };

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const DURATION = Number(arg("duration", "10"));
/** Connection counts to measure, one after another against the same worker (issue 15 item 5: at 1 and at 8). */
const CONNECTION_COUNTS = String(arg("connections", "8"))
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
if (!Number.isFinite(DURATION) || DURATION <= 0 || CONNECTION_COUNTS.length === 0) throw new Error("usage: --duration <seconds> --connections <n>[,<n>...]");
/** Only these targets (comma-separated names, e.g. `health,generation,me`), for a quick look; the Goals block needs all. */
const ONLY = arg("targets", "") ? new Set(String(arg("targets", "")).split(",")) : null;
/** Also print a CPU profile of the Worker while the targets run (bench/api/profile.mjs). */
const PROFILE = process.argv.includes("--profile");
const SCALE_ENTRIES = 10_000;
const SCALE_GENERATIONS = 1_000;

function log(m) {
  console.error(`[bench:api] ${m}`);
}

/** wrangler.toml with absolute paths and rate limits raised; only for this run. */
function benchConfig(dir) {
  let toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  toml = toml.replace(/^main = "worker\/index.ts"$/m, `main = ${JSON.stringify(join(ROOT, "worker", "index.ts"))}`);
  toml = toml.replaceAll('migrations_dir = "migrations"', `migrations_dir = ${JSON.stringify(join(ROOT, "migrations"))}`);
  toml = toml.replace(/simple = \{ limit = \d+, period = 60 \}/g, "simple = { limit = 100000000, period = 60 }");
  const path = join(dir, "wrangler.bench.toml");
  writeFileSync(path, toml);
  return path;
}

function wrangler(args) {
  const res = spawnSync(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`wrangler ${args.slice(0, 3).join(" ")} failed:\n${res.stderr || res.stdout}`);
  return res.stdout;
}

function hex(n) {
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One autocannon run; exact per-response timings (its histogram rounds to whole ms). */
async function load(url, headers, duration, into, connections) {
  const instance = autocannon({ url, headers, connections, duration });
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) into.samples.push(ms);
  });
  const result = await instance;
  into.requests += result.requests.total;
  into.seconds += duration;
  into.non2xx += result.non2xx;
  into.errors += result.errors;
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) into.statuses[code] = (into.statuses[code] ?? 0) + v.count;
}

function summary(acc) {
  const sorted = [...acc.samples].sort((a, b) => a - b);
  return {
    requests: acc.requests,
    rps: acc.requests / acc.seconds,
    non2xx: acc.non2xx,
    errors: acc.errors,
    statuses: acc.statuses,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

const ROUNDS = 5;

/**
 * The targets take turns in short rounds (the machine is shared: a slow
 * stretch then hits every target instead of one), and each target's samples
 * from all rounds are pooled before taking percentiles.
 */
async function measure(targets, duration, connections) {
  const acc = Object.fromEntries(targets.map((t) => [t.name, { samples: [], requests: 0, seconds: 0, non2xx: 0, errors: 0, statuses: {} }]));
  const slice = Math.max(1, Math.round(duration / ROUNDS));
  for (let r = 0; r < ROUNDS; r++) for (const t of targets) await load(t.url, t.headers, slice, acc[t.name], connections);
  return Object.fromEntries(targets.map((t) => [t.name, summary(acc[t.name])]));
}

async function apiBench() {
  const { problems } = setup({ log: () => undefined });
  if (problems.length) throw new Error(problems.join("; "));
  const dir = mkdtempSync(join(tmpdir(), "babypic-bench-"));
  const state = join(dir, "state");
  const config = benchConfig(dir);
  try {
    wrangler(["d1", "migrations", "apply", "DB", "--local", "--config", config, "--persist-to", state]);
    const now = Date.now();
    const user = `usr_${hex(16)}`;
    const gen = `gen_${hex(16)}`;
    const img = `img_${hex(16)}`;
    const big = `usr_${hex(16)}`;
    const empty = `usr_${hex(16)}`;
    // bob: 10,000 audit entries and 1,000 completed generations with one output each; carol: nothing yet.
    const seed = join(dir, "seed.sql");
    writeFileSync(
      seed,
      `INSERT INTO users (id, external_id, email, created_at, keep_photos_days) VALUES ('${big}', 'user_local_bob', 'bob@example.test', ${now}, 0);
       INSERT INTO users (id, external_id, email, created_at, keep_photos_days) VALUES ('${empty}', 'user_local_carol', 'carol@example.test', ${now}, 0);
       WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${SCALE_GENERATIONS})
       INSERT INTO generations (id, user_id, options, status, stage, model, cost, idempotency_key, request_hash, attempts, created_at, completed_at, deadline_at)
         SELECT printf('gen_bench%08d', i), '${big}', '{"gender":"girl","ageGroup":"baby","images":1}', 'completed', 'completed', 'bench/model', 1, printf('bench-%d', i), '${"0".repeat(64)}', 1, ${now - 86400000} + i * 60000, ${now - 86400000} + i * 60000, ${now} FROM c;
       WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${SCALE_GENERATIONS})
       INSERT INTO objects (id, user_id, kind, r2_key, content_type, bytes, width, height, generation_id, created_at)
         SELECT printf('img_bench%08d', i), '${big}', 'output', printf('u/${big}/output/img_bench%08d', i), 'image/jpeg', 123456, 1024, 1024, printf('gen_bench%08d', i), ${now - 86400000} + i * 60000 FROM c;
       WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${SCALE_ENTRIES})
       INSERT INTO audit_log (id, user_id, seq, at, actor_type, actor_id, action, target_type, target_id, request_id, ip_prefix, user_agent, detail, prev_hash, hash)
         SELECT printf('aud_bench%08d', i), '${big}', i, ${now - 86400000} + i * 1000, 'user', '${big}',
           CASE i % 4 WHEN 0 THEN 'generation.viewed' WHEN 1 THEN 'link.issued' WHEN 2 THEN 'link.used' ELSE 'generation.listed' END,
           'generation', printf('gen_bench%08d', 1 + i % ${SCALE_GENERATIONS}), printf('req_bench%08d', i), '203.0.113.0/24', 'Mozilla/5.0 (bench)', '{"count":1}',
           printf('%064d', i - 1), printf('%064d', i) FROM c;`,
    );
    wrangler(["d1", "execute", "DB", "--local", "--config", config, "--persist-to", state, "--file", seed]);
    // alice's row with a fixed id, so the local session for user_local_alice maps to it.
    wrangler([
      "d1", "execute", "DB", "--local", "--config", config, "--persist-to", state, "--command",
      `INSERT INTO users (id, external_id, email, created_at, keep_photos_days) VALUES ('${user}', 'user_local_alice', 'alice@example.test', ${now}, 0);
       INSERT INTO generations (id, user_id, options, status, stage, model, cost, idempotency_key, request_hash, attempts, created_at, completed_at, deadline_at)
         VALUES ('${gen}', '${user}', '{"gender":"girl","ageGroup":"baby","images":1}', 'completed', 'completed', 'bench/model', 1, 'bench-${hex(4)}', '${"0".repeat(64)}', 1, ${now}, ${now}, ${now + 600000});
       INSERT INTO objects (id, user_id, kind, r2_key, content_type, bytes, width, height, generation_id, created_at)
         VALUES ('${img}', '${user}', 'output', 'u/${user}/output/${img}', 'image/jpeg', 123456, 1024, 1024, '${gen}', ${now});`,
    ]);

    const port = await freePort();
    const inspectorPort = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const worker = new Service(
      "api",
      [WRANGLER, "dev", "--config", config, "--env-file", DEV_VARS, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state,
        "--show-interactive-dev-session=false", "--inspector-port", String(inspectorPort), "--var", `PUBLIC_API_URL:${base}`],
      { echo: false },
    );
    await waitForHttp(`${base}/v1/health`, [worker]);
    const tokenOf = async (user) => {
      const session = await fetch(`${base}/v1/dev/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user }) });
      if (!session.ok) throw new Error(`dev session: ${session.status}`);
      return { authorization: `Bearer ${(await session.json()).token}` };
    };
    const auth = await tokenOf("alice");
    const bigAuth = await tokenOf("bob");
    const emptyAuth = await tokenOf("carol");
    const probe = await fetch(`${base}/v1/generations/${gen}`, { headers: auth });
    const body = await probe.json();
    if (probe.status !== 200 || !body.outputs?.[0]?.url) throw new Error(`GET /v1/generations/:id answered ${probe.status}: ${JSON.stringify(body).slice(0, 300)}`);

    for (const [who, headers, want] of [["bob", bigAuth, 24], ["carol", emptyAuth, 0]]) {
      const listed = await (await fetch(`${base}/v1/generations?limit=24`, { headers })).json();
      if (listed.items?.length !== want) throw new Error(`${who}'s gallery answered ${JSON.stringify(listed).slice(0, 200)}`);
    }
    const targets = [
      { name: "health", url: `${base}/v1/health`, headers: {} },
      { name: "generation", url: `${base}/v1/generations/${gen}`, headers: auth },
      // For reading the gap: authentication plus the user row and balance, no audit.
      { name: "me", url: `${base}/v1/me`, headers: auth },
      { name: "activityBig", url: `${base}/v1/account/audit?limit=100`, headers: bigAuth },
      { name: "activityEmpty", url: `${base}/v1/account/audit?limit=100`, headers: emptyAuth },
      { name: "galleryBig", url: `${base}/v1/generations?limit=24`, headers: bigAuth },
      { name: "galleryEmpty", url: `${base}/v1/generations?limit=24`, headers: emptyAuth },
    ];
    const chosen = ONLY ? targets.filter((t) => ONLY.has(t.name)) : targets;
    const runs = [];
    for (const connections of CONNECTION_COUNTS) {
      log(`warming up (${connections} connections)`);
      await measure(chosen, ROUNDS, connections);
      log(`measuring ${DURATION}s per target in ${ROUNDS} alternating rounds at ${connections} connections`);
      const results = PROFILE ? await profiled(inspectorPort, () => measure(chosen, DURATION, connections)) : await measure(chosen, DURATION, connections);
      if (ONLY) {
        runs.push({ connections, durationSeconds: DURATION, ...results });
        continue;
      }
      if (Object.values(results).some((r) => r.non2xx > 0)) {
        log(`non-2xx answers: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.statuses])))}; worker log tail:`);
        for (const line of worker.tail.filter((l) => /error|warn/i.test(l)).slice(-8)) log(`  ${line.slice(0, 300)}`);
      }
      const { health, generation, me, activityBig, activityEmpty, galleryBig, galleryEmpty } = results;
      runs.push({
        connections,
        durationSeconds: DURATION,
        ...results,
        p50Ratio: generation.p50 / health.p50,
        p99Ratio: generation.p99 / health.p99,
        meRatio: me.p50 / health.p50,
        activityRatio: activityBig.p50 / activityEmpty.p50,
        galleryRatio: galleryBig.p50 / galleryEmpty.p50,
      });
    }
    return runs;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (ms) => `${ms.toFixed(2)} ms`;
/** Issue 15's goals, each a p50 ratio and its bound (items 5 and 6). */
const GOALS = [
  { name: "GET /v1/generations/:id <= 2x /v1/health", ratio: "p50Ratio", max: 2 },
  { name: "GET /v1/me <= 1.3x /v1/health", ratio: "meRatio", max: 1.3 },
  { name: "activity, 10k entries <= 1.2x empty", ratio: "activityRatio", max: 1.2 },
  { name: "gallery, 1k generations <= 1.2x empty", ratio: "galleryRatio", max: 1.2 },
];

try {
  const runs = await apiBench();
  if (ONLY) {
    for (const api of runs) {
      const base = api.health?.p50;
      for (const [name, r] of Object.entries(api)) {
        if (typeof r === "object") console.log(`${api.connections} conn ${name.padEnd(14)} p50 ${fmt(r.p50).padStart(9)} p99 ${fmt(r.p99).padStart(9)}${base ? `  ${(r.p50 / base).toFixed(2)}x health` : ""}`);
      }
    }
    process.exit(0);
  }
  const link = await benchSignedLink();
  for (const api of runs) {
    console.log("");
    console.log(`API (${api.connections} connections, ${api.durationSeconds}s each)   p50        p99        req/s   non-2xx`);
    for (const [name, r] of [
      ["GET /v1/health", api.health],
      ["GET /v1/generations/:id", api.generation],
      ["GET /v1/me", api.me],
      ["activity, 10k entries", api.activityBig],
      ["activity, empty user", api.activityEmpty],
      ["gallery, 1k generations", api.galleryBig],
      ["gallery, empty user", api.galleryEmpty],
    ]) {
      console.log(`  ${name.padEnd(26)} ${fmt(r.p50).padStart(9)}  ${fmt(r.p99).padStart(9)}  ${r.rps.toFixed(0).padStart(6)}   ${r.non2xx + r.errors}`);
    }
    console.log(`  ratio generation/health     p50 ${api.p50Ratio.toFixed(2)}x, p99 ${api.p99Ratio.toFixed(2)}x`);
  }
  console.log("");
  console.log("Goals (p50 ratios, issue 15 items 5 and 6)");
  for (const g of GOALS) {
    const cells = runs.map((api) => `${api.connections} conn ${api[g.ratio].toFixed(2)}x ${api[g.ratio] <= g.max ? "met" : "NOT met"}`);
    console.log(`  ${g.name.padEnd(42)} ${cells.join("; ")}`);
  }
  console.log(`Signed link verify (Node ${link.node}, ${link.iterations} calls): ${link.verifyUs.toFixed(1)} µs/call valid, ${link.refuseUs.toFixed(1)} µs refused; bare HMAC ${link.bareHmacUs.toFixed(1)} µs (${link.ratio.toFixed(2)}x)`);
  console.log(JSON.stringify({ api: runs.length === 1 ? runs[0] : runs, signedLink: link }));
} catch (err) {
  await stopAll();
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
