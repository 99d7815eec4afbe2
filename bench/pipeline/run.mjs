// Generation pipeline benchmark (issue 4 §9): the overhead our pipeline adds
// between `POST /v1/generations` and `completed`, with an instant local Fal,
// against the bare queue round trip measured the same way in the same run.
//
//   node scripts/node.mjs bench/pipeline/run.mjs [--runs 20] [--concurrent 50] [--poll-ms 10] [--json]
//   npm run bench:pipeline
//
// Starts its own `wrangler dev` (local D1/R2/Queues, fresh state directory,
// the same config as `npm start`) and the local Fal server in this process
// (mode ok, delayMs 0). Each simulated user gets its own session (the local
// identity provider), consent, two sealed photo uploads, so per-user rate
// limits are those of real users.
//
//   queue      POST /v1/dev/queue-ping (development only): enqueue a no-op
//              message; poll until the consumer has recorded it. The bare
//              queue round trip: HTTP + Queues delivery + R2 write + polling.
//   pipeline   POST /v1/generations, poll GET /v1/generations/:id until
//              completed: reserve credits + row (one D1 batch), queue,
//              decrypt parents, submit to Fal (data URIs), Fal's signed
//              webhook, JWKS, download, validate, encrypt, store, complete.
//   overhead   pipeline median minus queue median (goal: pipeline <= 1 s).
//   concurrent N users POST at once; all must complete (wall time, p50/p95).
//
// Both measurements poll at the same interval, so polling granularity
// appears on both sides. Timers are read in Node (inside workerd they only
// advance across I/O).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import jpeg from "jpeg-js";
import { signLocalSession } from "../../worker/auth/local-idp.ts";
import { TERMS_VERSION } from "../../worker/lib/privacy-facts.ts";
import { sealUpload } from "../../worker/lib/upload-envelope.ts";
import { readDevVars } from "../../scripts/lib/dev-vars.mjs";
import { setup } from "../../scripts/setup.mjs";
import { startFalLocal } from "../../scripts/fal-local.mjs";
import { freePort, migrate, startWorker, waitForHttp } from "../../scripts/start.mjs";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    concurrent: { type: "string", default: "50" },
    "poll-ms": { type: "string", default: "10" },
    "concurrent-poll-ms": { type: "string", default: "250" },
    json: { type: "boolean", default: false },
  },
});
const RUNS = Number(opts.runs);
const CONCURRENT = Number(opts.concurrent);
const POLL_MS = Number(opts["poll-ms"]);
// 50 clients polling every 10 ms would mostly measure the polling; an SPA polls about once a second.
const CONCURRENT_POLL_MS = Number(opts["concurrent-poll-ms"]);
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${Math.round(x)} ms`;

/** A 512x512 JPEG with a gradient: an acceptable parent photo. */
function photo(seed) {
  const size = 512;
  const data = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) data.set([(x + seed * 40) & 0xff, (y + seed * 90) & 0xff, (x + y) & 0xff, 255], (y * size + x) * 4);
  }
  return new Uint8Array(jpeg.encode({ data, width: size, height: size }, 85).data);
}

async function json(res, what) {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function main() {
  const { problems } = setup({ log });
  if (problems.length) throw new Error(problems.join("; "));
  const devVars = readDevVars() ?? {};
  if (!devVars.LOCAL_IDP_PRIVATE_KEY) throw new Error(".dev.vars has no LOCAL_IDP_PRIVATE_KEY; run npm run setup");

  const fal = await startFalLocal({ port: await freePort(), adminKey: devVars.FAL_ADMIN_KEY, quiet: true });
  const state = mkdtempSync(join(tmpdir(), "babypic-bench-pipeline-"));
  await migrate({ persistTo: state });
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const worker = startWorker({
    port,
    persistTo: state,
    echo: Boolean(process.env.BENCH_ECHO),
    vars: { PUBLIC_API_URL: api, FAL_QUEUE_URL: fal.url, FAL_JWKS_URL: `${fal.url}/.well-known/jwks.json` },
  });
  try {
    await waitForHttp(`${api}/v1/health`, [worker]);
    log(`worker ${api}, local Fal ${fal.url} (instant, NON-AI previews)`);
    const { keyId, publicKey } = await json(await fetch(`${api}/v1/keys/upload`), "upload key");
    const mother = photo(1);
    const father = photo(2);

    /** A fresh local user with consent and two uploaded parents. */
    async function user(name) {
      const token = await signLocalSession({ privateKeyPem: devVars.LOCAL_IDP_PRIVATE_KEY, user: name, azp: "http://127.0.0.1:5173", ttlSeconds: 3600 });
      const auth = { authorization: `Bearer ${token}` };
      const { id: userId } = await json(await fetch(`${api}/v1/me`, { headers: auth }), "me");
      await json(
        await fetch(`${api}/v1/me/consent`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ termsVersion: TERMS_VERSION, peopleConsent: true }),
        }),
        "consent",
      );
      const upload = async (bytes) => {
        const uploadId = randomUUID();
        const envelope = await sealUpload({ publicJwk: publicKey, keyId, userId, uploadId, bytes });
        const res = await fetch(`${api}/v1/photos`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/octet-stream", "x-upload-id": uploadId, "x-upload-content-type": "image/jpeg" },
          body: envelope,
        });
        return (await json(res, "upload")).id;
      };
      return { auth, motherPhotoId: await upload(mother), fatherPhotoId: await upload(father) };
    }

    async function generate(u, pollMs = POLL_MS) {
      const t0 = performance.now();
      const res = await fetch(`${api}/v1/generations`, {
        method: "POST",
        headers: { ...u.auth, "content-type": "application/json", "idempotency-key": randomUUID() },
        body: JSON.stringify({ motherPhotoId: u.motherPhotoId, fatherPhotoId: u.fatherPhotoId, gender: "surprise", ageGroup: "newborn", resemblance: 0.5, images: 1 }),
      });
      const { id } = await json(res, "create");
      for (;;) {
        const g = await json(await fetch(`${api}/v1/generations/${id}`, { headers: u.auth }), "poll");
        if (g.status === "completed") {
          const created = Date.parse(g.createdAt);
          const submitted = Date.parse(g.submittedAt);
          return { ms: performance.now() - t0, server: Date.parse(g.completedAt) - created, toSubmit: submitted - created, afterSubmit: Date.parse(g.completedAt) - submitted };
        }
        if (g.status === "failed" || g.status === "canceled") throw new Error(`generation ${id} ${g.status}: ${g.error?.message}`);
        await sleep(pollMs);
      }
    }

    async function queuePing() {
      const t0 = performance.now();
      const { pingId } = await json(await fetch(`${api}/v1/dev/queue-ping`, { method: "POST" }), "ping");
      for (;;) {
        const { receivedAt } = await json(await fetch(`${api}/v1/dev/queue-ping/${pingId}`), "ping poll");
        if (receivedAt !== null) return performance.now() - t0;
        await sleep(POLL_MS);
      }
    }

    log(`preparing ${RUNS + CONCURRENT + 1} users (session, consent, two sealed uploads each)`);
    const users = [];
    for (let i = 0; i < RUNS + CONCURRENT + 1; i++) users.push(await user(`bench-${i}`));

    // Warm-up: code paths loaded, keys imported, JWKS cached, Fal's preview cache filled.
    await generate(users[0]);
    await queuePing();

    const queue = [];
    const pipeline = [];
    const server = [];
    for (let i = 0; i < RUNS; i++) {
      queue.push(await queuePing());
      const g = await generate(users[i + 1]);
      pipeline.push(g.ms);
      server.push(g.server);
    }
    log(`sequential: queue median ${ms(pct(queue, 50))}, pipeline median ${ms(pct(pipeline, 50))}`);

    log(`${CONCURRENT} concurrent generations`);
    const t0 = performance.now();
    const settled = await Promise.allSettled(users.slice(RUNS + 1).map((u) => generate(u, CONCURRENT_POLL_MS)));
    const wall = performance.now() - t0;
    const done = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
    const ok = done.map((d) => d.ms);
    const failures = settled.filter((s) => s.status === "rejected").map((s) => String(s.reason));

    const result = {
      runs: RUNS,
      pollMs: POLL_MS,
      queueRoundTrip: { p50: pct(queue, 50), p90: pct(queue, 90) },
      pipeline: { p50: pct(pipeline, 50), p90: pct(pipeline, 90), max: Math.max(...pipeline) },
      serverSide: { p50: pct(server, 50), p90: pct(server, 90) },
      overheadOverQueue: pct(pipeline, 50) - pct(queue, 50),
      ratio: pct(pipeline, 50) / pct(queue, 50),
      goalMet: pct(pipeline, 50) <= 1000,
      concurrent: { n: CONCURRENT, pollMs: CONCURRENT_POLL_MS, completed: ok.length, wall, p50: ok.length ? pct(ok, 50) : null, p95: ok.length ? pct(ok, 95) : null,
        // Where the time goes (server clock): waiting in the queue until Fal has the job, then Fal + webhook + finalize.
        createdToSubmitted: done.length ? pct(done.map((d) => d.toSubmit), 50) : null,
        submittedToCompleted: done.length ? pct(done.map((d) => d.afterSubmit), 50) : null,
        failures: failures.slice(0, 5),
      },
    };
    if (opts.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`\nGeneration pipeline, instant local Fal, ${RUNS} sequential runs, polling every ${POLL_MS} ms`);
      console.log(`  bare queue round trip   median ${ms(result.queueRoundTrip.p50)}   p90 ${ms(result.queueRoundTrip.p90)}`);
      console.log(`  POST -> completed       median ${ms(result.pipeline.p50)}   p90 ${ms(result.pipeline.p90)}   max ${ms(result.pipeline.max)}`);
      console.log(`    (server createdAt -> completedAt median ${ms(result.serverSide.p50)})`);
      console.log(`  pipeline / queue        ${result.ratio.toFixed(2)}x   (+${ms(result.overheadOverQueue)})   goal median <= 1000 ms: ${result.goalMet ? "met" : "NOT met"}`);
      console.log(`  ${CONCURRENT} concurrent          ${ok.length}/${CONCURRENT} completed in ${ms(wall)}   p50 ${ms(result.concurrent.p50 ?? NaN)}   p95 ${ms(result.concurrent.p95 ?? NaN)}   (polling every ${CONCURRENT_POLL_MS} ms)`);
      console.log(`    (server: created -> submitted median ${ms(result.concurrent.createdToSubmitted ?? NaN)}, submitted -> completed median ${ms(result.concurrent.submittedToCompleted ?? NaN)})`);
      for (const f of result.concurrent.failures) console.log(`    failure: ${f}`);
    }
    if (ok.length !== CONCURRENT) process.exitCode = 1;
  } finally {
    await worker.stop();
    await fal.close();
    rmSync(state, { recursive: true, force: true });
  }
}

await main();
