// Intake benchmark (issue 3): server-side intake of 1, 5 and 10 MB sealed
// photos, in workerd, timed from outside (timers inside workerd only advance
// across I/O), against a baseline measured in the same run.
//
//   node scripts/node.mjs bench/intake/run.mjs [--runs 5] [--sizes 1,5,10] [--json] [--skip-isolated | --isolated-only]
//   npm run bench:intake
//
// This end-to-end measurement is followed by the isolated one (isolated.mjs:
// our intake processing alone, K rounds inside one workerd request, against
// bare AES-GCM decrypt + encrypt) unless --skip-isolated.
//
// For each size:
//   intake   POST /v1/photos on `wrangler dev` (local D1/R2, fresh state):
//            HTTP transfer, HPKE open, image validation + metadata strip,
//            segmented AES-256-GCM encryption, R2 write, D1 row, audit entry.
//   baseline the same envelope bytes POSTed over HTTP to a bare workerd
//            Worker (Miniflare, same workerd binary) that only does WebCrypto
//            AES-256-GCM decrypt + encrypt of them: transfer + crypto, nothing else.
//   base+R2  the same bare Worker, which also writes its result to (local,
//            simulated) R2: isolates our overhead from the storage write.
//   node     bare WebCrypto AES-256-GCM decrypt + encrypt of the same bytes
//            in this Node process (the cost of the cryptography alone).
// Ratio = median intake / median baseline. Both sides include HTTP transfer,
// and ours the (simulated, on-disk) R2 write, so the issue's goals (<= 1.5x
// at 10 MB, memory <= 3x) are judged on the isolated measurement that follows.
//
// Peak memory: each size runs on freshly started Workers (ours and the bare
// one), warmed with one small request; the kernel's peak-RSS counter of each
// workerd process (VmHWM) is reset (`echo 5 > /proc/<pid>/clear_refs`) and
// read after the first request of that size. Reported: that peak minus the
// RSS just before. It counts everything in the process: V8 heap, array
// buffers not yet collected, HTTP body buffers, and Miniflare's local R2/D1
// simulators (which run in the same workerd process). Later requests reuse
// memory freed by GC, so only the first one is a fair peak. Linux only.
import { webcrypto } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { signLocalSession } from "../../worker/auth/local-idp.ts";
import { TERMS_VERSION } from "../../worker/lib/privacy-facts.ts";
import { sealUpload } from "../../worker/lib/upload-envelope.ts";
import { formatIsolated, memKb, runIsolated, startScratchWorker, workerdUnder } from "./isolated.mjs";
import { syntheticJpeg } from "./jpeg.mjs";
import { readDevVars } from "../../scripts/lib/dev-vars.mjs";
import { setup } from "../../scripts/setup.mjs";
import { freePort, migrate, startWorker, waitForHttp } from "../../scripts/start.mjs";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    sizes: { type: "string", default: "1,5,10" },
    json: { type: "boolean", default: false },
    // The second measurement (isolated.mjs): our intake processing alone, in workerd.
    "skip-isolated": { type: "boolean", default: false },
    "isolated-only": { type: "boolean", default: false },
  },
});
const RUNS = Number(opts.runs);
const SIZES_MB = opts.sizes.split(",").map(Number);
const MB = 1_000_000;
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ------------------------------------------------------------------ inputs

async function nodeBaseline(bytes) {
  const key = await webcrypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const sealed = await webcrypto.subtle.encrypt({ name: "AES-GCM", iv }, key, bytes);
  const times = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = performance.now();
    const plain = await webcrypto.subtle.decrypt({ name: "AES-GCM", iv }, key, sealed);
    await webcrypto.subtle.encrypt({ name: "AES-GCM", iv: webcrypto.getRandomValues(new Uint8Array(12)) }, key, plain);
    if (i > 0) times.push(performance.now() - t0);
  }
  return median(times);
}

// ------------------------------------------------------------------ workerd processes

/**
 * Peak RSS growth around one request: the kernel's high-water mark of each
 * workerd process is reset (`clear_refs` 5), and after the request the peak
 * minus the RSS before is returned. Garbage not yet collected counts (V8
 * frees array buffers lazily). wrangler dev may run more than one workerd
 * process; all are counted.
 */
function markMemory(pids) {
  const before = pids.map((pid) => memKb(pid, "VmRSS"));
  for (const pid of pids) writeFileSync(`/proc/${pid}/clear_refs`, "5");
  return () => pids.reduce((sum, pid, k) => sum + ((memKb(pid, "VmHWM") - (before[k] ?? 0)) * 1024) / MB, 0);
}

/** The Worker under test on a fresh state directory; returns its URL, its workerd pid and a stop function. */
async function startApi() {
  const state = mkdtempSync(join(tmpdir(), "babypic-bench-"));
  await migrate({ persistTo: state });
  const port = await freePort();
  const svc = startWorker({ port, persistTo: state, echo: false });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/v1/health`, [svc]);
  } catch (err) {
    await svc.stop();
    rmSync(state, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    // Looked up when needed: wrangler dev may replace its workerd process after startup.
    pids: () => workerdUnder(svc.pid),
    stop: async () => {
      await svc.stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
}

const BASELINE_SCRIPT = `
export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("ok");
    const raw = Uint8Array.from(atob(env.KEY), (c) => c.charCodeAt(0));
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    const iv = Uint8Array.from(atob(env.IV), (c) => c.charCodeAt(0));
    const body = await request.arrayBuffer();
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, body);
    const again = await crypto.subtle.encrypt({ name: "AES-GCM", iv: crypto.getRandomValues(new Uint8Array(12)) }, key, plain);
    if (new URL(request.url).searchParams.has("store")) await env.BUCKET.put(crypto.randomUUID(), again);
    return new Response(String(again.byteLength));
  },
};`;

/** The baseline Worker: its own `wrangler dev` (same workerd) from a throwaway directory. */
function startBaseline(rawKey, iv) {
  return startScratchWorker(
    "baseline",
    {
      "index.mjs": BASELINE_SCRIPT,
      "wrangler.toml": 'name = "bench-baseline"\nmain = "index.mjs"\ncompatibility_date = "2026-11-01"\n[[r2_buckets]]\nbinding = "BUCKET"\nbucket_name = "bench"\n',
    },
    { KEY: Buffer.from(rawKey).toString("base64"), IV: Buffer.from(iv).toString("base64") },
  );
}

// ------------------------------------------------------------------ the run

async function timedPost(url, body, headers) {
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", body, headers });
  const text = await res.text();
  const ms = performance.now() - t0;
  return { ms, status: res.status, text };
}

async function main() {
  const { problems } = setup({ log: () => undefined });
  if (problems.length) throw new Error(problems.join("; "));
  const devVars = readDevVars() ?? {};
  const appOrigin = "http://127.0.0.1:5173";
  const ring = JSON.parse(devVars.HPKE_KEYS);
  const priv = ring.keys[ring.current];
  const publicJwk = { kty: "EC", crv: "P-256", x: priv.x, y: priv.y };

  const rawKey = webcrypto.getRandomValues(new Uint8Array(32));
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const baseKey = await webcrypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt"]);

  const results = [];
  if (!opts["isolated-only"]) {
    for (const [i, sizeMb] of SIZES_MB.entries()) {
      const user = ["alice", "bob", "carol"][i % 3];
      const photo = syntheticJpeg(Math.round(sizeMb * MB));
      log(`${sizeMb} MB: starting a fresh Worker`);
      const api = await startApi();
      const baseline = await startBaseline(rawKey, iv).catch(async (err) => {
        await api.stop();
        throw err;
      });
      const baselineUrl = baseline.url;
      try {
        const token = await signLocalSession({ privateKeyPem: devVars.LOCAL_IDP_PRIVATE_KEY, user, azp: appOrigin, ttlSeconds: 3600 });
        const me = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
        const { id: userId } = await me.json();
        // Uploads need consent to the current terms first (as the SPA asks before the first upload).
        const consent = await fetch(`${api.url}/v1/me/consent`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ termsVersion: TERMS_VERSION, peopleConsent: true }),
        });
        if (!consent.ok) throw new Error(`consent failed: ${consent.status} ${await consent.text()}`);
        const post = async (bytes) => {
          const uploadId = webcrypto.randomUUID();
          const envelope = await sealUpload({ publicJwk, keyId: ring.current, userId, uploadId, bytes });
          return timedPost(`${api.url}/v1/photos`, envelope, {
            authorization: `Bearer ${token}`,
            "content-type": "application/octet-stream",
            "x-upload-id": uploadId,
            "x-upload-content-type": "image/jpeg",
          });
        };
        // Warm-up: code loaded, key ring imported, DEK created, tables touched.
        const warm = await post(syntheticJpeg(300_000));
        if (warm.status !== 201) throw new Error(`warm-up upload failed: ${warm.status} ${warm.text}`);

        // Timed runs, interleaved (intake, bare, bare + R2) so load changes on a shared machine hit all three alike.
        const sealed = new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-GCM", iv }, baseKey, photo));
        const warmSealed = new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-GCM", iv }, baseKey, syntheticJpeg(300_000)));
        await timedPost(`${baselineUrl}?store`, warmSealed, { "content-type": "application/octet-stream" });
        // Peak memory: the first large request on each warmed-up Worker.
        const apiPeak = markMemory(api.pids());
        const first = await post(photo);
        if (first.status !== 201) throw new Error(`upload failed: ${first.status} ${first.text}`);
        const peakDeltaMb = apiPeak();
        const basePeak = markMemory(baseline.pids());
        const firstBase = await timedPost(`${baselineUrl}?store`, sealed, { "content-type": "application/octet-stream" });
        if (firstBase.status !== 200) throw new Error(`baseline+R2 failed: ${firstBase.status} ${firstBase.text}`);
        const basePeakMb = basePeak();
        const base = [];
        const baseStore = [];
        const intake = [];
        for (let r = 0; r < RUNS + 1; r++) {
          const a = await post(photo);
          if (a.status !== 201) throw new Error(`upload failed: ${a.status} ${a.text}`);
          const b = await timedPost(baselineUrl, sealed, { "content-type": "application/octet-stream" });
          if (b.status !== 200) throw new Error(`baseline failed: ${b.status} ${b.text}`);
          const c = await timedPost(`${baselineUrl}?store`, sealed, { "content-type": "application/octet-stream" });
          if (c.status !== 200) throw new Error(`baseline+R2 failed: ${c.status} ${c.text}`);
          if (r === 0) continue; // the first round warms the bare Worker's large-body path
          intake.push(a.ms);
          base.push(b.ms);
          baseStore.push(c.ms);
        }
        const nodeMs = await nodeBaseline(photo);
        const row = {
          sizeMb,
          intakeMs: median(intake),
          baselineMs: median(base),
          nodeCryptoMs: nodeMs,
          ratio: median(intake) / median(base),
          baselineWithR2Ms: median(baseStore),
          ratioVsBaselineWithR2: median(intake) / median(baseStore),
          ratioVsCryptoOnly: median(intake) / nodeMs,
          peakRssDeltaMb: peakDeltaMb,
          peakOverPhoto: peakDeltaMb / sizeMb,
          baselineWithR2PeakMb: basePeakMb,
        };
        results.push(row);
        log(`${sizeMb} MB: intake ${row.intakeMs.toFixed(0)} ms, baseline ${row.baselineMs.toFixed(0)} ms, ratio ${row.ratio.toFixed(2)}x, peak +${peakDeltaMb.toFixed(1)} MB (bare + R2: +${basePeakMb.toFixed(1)} MB)`);
      } finally {
        await api.stop();
        await baseline.stop();
      }
    }
  }

  const isolated = opts["skip-isolated"] ? null : await runIsolated({ runs: RUNS, sizesMb: SIZES_MB });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ runs: RUNS, node: process.version, results, isolated }, null, 2)}\n`);
    return;
  }
  const pad = (s, n) => String(s).padStart(n);
  const lines = [
    `Intake benchmark: median of ${RUNS} runs per size, Node ${process.version}, workerd via wrangler dev / Miniflare`,
    "",
    `${pad("size", 6)} ${pad("intake ms", 10)} ${pad("baseline ms", 12)} ${pad("ratio", 7)} ${pad("base+R2 ms", 11)} ${pad("ratio", 7)} ${pad("crypto-only ms", 15)} ${pad("vs crypto", 10)} ${pad("peak RSS +MB", 13)} ${pad("x photo", 8)} ${pad("base+R2 peak", 13)}`,
    ...results.map(
      (r) =>
        `${pad(`${r.sizeMb} MB`, 6)} ${pad(r.intakeMs.toFixed(0), 10)} ${pad(r.baselineMs.toFixed(0), 12)} ${pad(`${r.ratio.toFixed(2)}x`, 7)} ${pad(
          r.baselineWithR2Ms.toFixed(0),
          11,
        )} ${pad(`${r.ratioVsBaselineWithR2.toFixed(2)}x`, 7)} ${pad(
          r.nodeCryptoMs.toFixed(1),
          15,
        )} ${pad(`${r.ratioVsCryptoOnly.toFixed(1)}x`, 10)} ${pad(r.peakRssDeltaMb.toFixed(1), 13)} ${pad(`${r.peakOverPhoto.toFixed(2)}x`, 8)} ${pad(
          r.baselineWithR2PeakMb.toFixed(1),
          13,
        )}`,
    ),
    "",
    "ratio = intake / baseline (same bytes over HTTP to a bare workerd Worker doing AES-GCM decrypt + encrypt); includes our R2 write, so the goal (<= 1.50x at 10 MB) is judged on the isolated table below.",
    "base+R2 = the same bare Worker that also writes the result to (local, simulated) R2; its ratio isolates our own overhead from the storage write.",
    "peak RSS = workerd VmHWM minus VmRSS around the first upload of the size on a fresh, warmed-up Worker (the whole process, R2 simulator included; the memory goal is judged below).",
    "base+R2 peak = the same measure for the bare decrypt + encrypt + R2 write Worker: what the platform itself costs for these bytes.",
  ];
  if (results.length) process.stdout.write(`${lines.join("\n")}\n`);
  if (isolated) process.stdout.write(`${results.length ? "\n" : ""}${formatIsolated(isolated, RUNS)}\n`);
}

main().catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
