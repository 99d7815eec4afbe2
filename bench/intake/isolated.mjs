// Intake benchmark, isolated (issue 3): OUR server-side intake processing in
// workerd, without HTTP transfer, auth, D1 or R2 (run.mjs measures those end to
// end). bench/intake/worker.ts, a bench-only Worker run by its own
// `wrangler dev -c <temp config>` (the same workerd), receives the bytes once per request and runs
// K rounds of one mode inside it:
//
//   intake   openUpload (HPKE) + validateImage (in-place strip) + per-object
//            HKDF + segmented AES-256-GCM (sealObjectBytes, the function
//            putObject uses) into a sink that drops each sealed piece;
//   baseline bare WebCrypto AES-256-GCM decrypt + encrypt of the same photo;
//   empty    the same body size, K rounds of nothing.
//
// Timers inside workerd only advance across I/O, so each request is timed
// from Node, and per-round cost = (request ms - empty request ms) / K, with the
// intake, baseline and empty requests interleaved, taking the fastest of
// `--runs` requests per mode (medians too, in --json). Ratio = intake / baseline.
// The bytes are loaded into the isolate once (`mode=load`), so timed requests
// carry no body. Each timed request follows an untimed one of the same mode:
// garbage collection and page faults for one request's buffers partly land on
// the next, and without this the intake paid for the baseline's garbage
// (1.6x where paired requests give 1.4x, in the same session).
//
// Memory: for each size and mode a fresh `wrangler dev` (its own workerd process)
// is warmed with one small request, its peak-RSS counter is reset
// (`echo 5 > /proc/<pid>/clear_refs`), one request with K = 1 is sent, and
// VmHWM minus the VmRSS before is read. intake - empty and baseline - empty
// are what the processing itself adds to the request (buffers the GC had not
// yet reclaimed included). Linux only.
//
//   node scripts/node.mjs bench/intake/isolated.mjs [--runs 5] [--sizes 1,5,10] [--mb-per-request 80] [--breakdown] [--json]
//   --breakdown also times intake stopped after HPKE open and after validateImage (header parse + strip;
//   the JPEG scan data is checked by the sealer, decision 0007) (per-stage cost),
//   and whole intake with 64 KiB segments (the default before decision 0007) instead of production's 1 MiB.
import { webcrypto } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { sealUpload } from "../../worker/lib/upload-envelope.ts";
import { ROOT } from "../../scripts/lib/dev-vars.mjs";
import { freePort, Service, waitForHttp } from "../../scripts/start.mjs";
import { syntheticJpeg } from "./jpeg.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const MB = 1_000_000;
const SEGMENT = 1024 * 1024; // DEFAULT_SEGMENT_SHIFT = 20
const log = (m) => process.stderr.write(`[bench isolated] ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const b64 = (u8) => Buffer.from(u8).toString("base64");

function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process went away
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function isWorkerd(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0].endsWith("workerd");
  } catch {
    return false;
  }
}

/** The workerd processes below `pid` (wrangler/miniflare spawn it a few levels down); used by run.mjs too. */
export function workerdUnder(pid) {
  const found = descendants(pid).filter(isWorkerd);
  if (found.length === 0) throw new Error(`no workerd process under pid ${pid}`);
  return found;
}

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM), NaN when absent. */
export function memKb(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** Everything one size needs: the photo sealed both ways, and the keys the Worker gets as bindings. */
async function inputs(sizeMb) {
  const photo = syntheticJpeg(Math.round(sizeMb * MB));
  const pair = await webcrypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const priv = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  const pub = await webcrypto.subtle.exportKey("jwk", pair.publicKey);
  const envelope = await sealUpload({ publicJwk: pub, keyId: "bench-1", userId: "usr_bench", uploadId: "bench-upload-0000000000", bytes: photo });
  const headLength = 12 + "bench-1".length + 65;
  const baseKey = webcrypto.getRandomValues(new Uint8Array(32));
  const baseIv = webcrypto.getRandomValues(new Uint8Array(12));
  const aes = await webcrypto.subtle.importKey("raw", baseKey, "AES-GCM", false, ["encrypt"]);
  const baseSealed = new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-GCM", iv: baseIv }, aes, photo));
  return {
    photo,
    head: envelope.subarray(0, headLength),
    hpkeCiphertext: envelope.slice(headLength),
    baseSealed,
    bindings: {
      HPKE_PRIVATE_JWK: b64(Buffer.from(JSON.stringify({ kty: priv.kty, crv: priv.crv, x: priv.x, y: priv.y, d: priv.d }))),
      BASE_KEY: b64(baseKey),
      BASE_IV: b64(baseIv),
      DEK: b64(webcrypto.getRandomValues(new Uint8Array(32))),
    },
  };
}

/**
 * A throwaway Worker on its own `wrangler dev` (same workerd as the app) from a
 * temporary directory holding `files` (a `wrangler.toml` among them), with
 * `vars` as `--var`s; the directory goes with `stop()`. Used by run.mjs too.
 */
export async function startScratchWorker(label, files, vars = {}) {
  const dir = mkdtempSync(join(tmpdir(), `babypic-bench-${label}-`));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const port = await freePort();
  const svc = new Service(
    label,
    [
      join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js"),
      "dev",
      "--config",
      join(dir, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--show-interactive-dev-session=false",
      "--persist-to",
      join(dir, "state"),
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    { echo: false },
  );
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(url, [svc]);
  } catch (err) {
    await stop();
    throw err;
  }
  // Looked up when needed: wrangler dev may replace its workerd process after startup.
  return { url, pids: () => workerdUnder(svc.pid), stop };
}

/** The bench Worker (wrangler bundles worker.ts). */
function start(bindings) {
  const toml = `name = "bench-intake-isolated"\nmain = ${JSON.stringify(join(HERE, "worker.ts"))}\ncompatibility_date = "2026-11-01"\ncompatibility_flags = ["nodejs_compat"]\n`;
  return startScratchWorker("isolated", { "wrangler.toml": toml }, bindings);
}

/**
 * `mode` is empty, baseline, intake, intake:open / intake:validate (intake
 * stopped after that stage), intake:unfused (the scan walked in validateImage,
 * then a plain seal) or intake:all:<shift> (segments of 2^shift bytes).
 * With `kept`, the bytes were loaded into the isolate beforehand (`keep`) and
 * the timed request carries none: no 10 MB transfer in the timing.
 */
async function request(url, mode, k, input, kept = false) {
  const [kind, upto = "all", shift = ""] = mode.split(":");
  const name = kind === "baseline" ? "baseline" : "intake";
  const body = kept ? null : kind === "baseline" ? input.baseSealed : input.hpkeCiphertext;
  const headers = { "content-type": "application/octet-stream" };
  if (kind === "intake") headers["x-envelope-head"] = b64(input.head);
  const t0 = performance.now();
  const res = await fetch(`${url}?mode=${kind}&upto=${upto}&k=${k}${shift ? `&shift=${shift}` : ""}${kept ? `&from=${name}` : ""}`, { method: "POST", body, headers });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${mode} failed: ${res.status} ${text}`);
  return ms;
}

/** Peak RSS growth of a fresh workerd over one K = 1 request of `mode`. */
async function peakMb(input, small, mode) {
  const { url, pids: workerdPids, stop } = await start(input.bindings);
  try {
    await request(url, mode, 1, small);
    await request(url, mode, 1, small);
    // wrangler dev may run more than one workerd process; all are counted.
    const pids = workerdPids();
    const before = pids.map((pid) => memKb(pid, "VmRSS"));
    for (const pid of pids) writeFileSync(`/proc/${pid}/clear_refs`, "5");
    await request(url, mode, 1, input);
    return pids.reduce((sum, pid, i) => sum + ((memKb(pid, "VmHWM") - (before[i] ?? 0)) * 1024) / MB, 0);
  } finally {
    await stop();
  }
}

export async function runIsolated({ runs = 5, sizesMb = [1, 5, 10], mbPerRequest = 80, breakdown = false } = {}) {
  const results = [];
  for (const sizeMb of sizesMb) {
    const input = await inputs(sizeMb);
    // The warm-up input shares the keys (bindings) of the measured one.
    const smallPhoto = syntheticJpeg(300_000);
    const pub = JSON.parse(Buffer.from(input.bindings.HPKE_PRIVATE_JWK, "base64").toString());
    delete pub.d;
    const smallEnv = await sealUpload({ publicJwk: pub, keyId: "bench-1", userId: "usr_bench", uploadId: "bench-upload-0000000000", bytes: smallPhoto });
    const aes = await webcrypto.subtle.importKey("raw", Buffer.from(input.bindings.BASE_KEY, "base64"), "AES-GCM", false, ["encrypt"]);
    const small = {
      head: smallEnv.subarray(0, input.head.length),
      hpkeCiphertext: smallEnv.slice(input.head.length),
      baseSealed: new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-GCM", iv: Buffer.from(input.bindings.BASE_IV, "base64") }, aes, smallPhoto)),
    };
    const k = Math.max(2, Math.round(mbPerRequest / sizeMb));
    log(`${sizeMb} MB: K = ${k} rounds per request`);
    const { url, stop } = await start(input.bindings);
    const modes = ["empty", "baseline", "intake", ...(breakdown ? ["baseline:open", "intake:open", "intake:validate", "intake:unfused", "intake:all:16"] : [])];
    const per = Object.fromEntries(modes.map((m) => [m, []]));
    try {
      for (const [name, body] of [["intake", input.hpkeCiphertext], ["baseline", input.baseSealed]]) {
        const res = await fetch(`${url}?mode=load&name=${name}`, { method: "POST", body });
        if (res.status !== 200) throw new Error(`load ${name}: ${res.status}`);
      }
      for (const mode of modes) await request(url, mode, k, input, true); // warm every path
      for (let r = 0; r < runs; r++) {
        for (const mode of modes) {
          // The runtime's garbage collection and page faults for a request's buffers land partly on the
          // next request; one unmeasured request of the same mode first makes each mode pay its own.
          await request(url, mode, k, input, true);
          per[mode].push(await request(url, mode, k, input, true));
        }
      }
    } finally {
      await stop();
    }
    // The fastest of the interleaved requests per mode: on a shared machine other load only ever adds time,
    // so the minimum is the steadiest estimate of the work itself (medians are kept in the JSON).
    const perRound = (pick) => {
      const emptyMs = pick(per.empty);
      const at = (m) => (pick(per[m]) - emptyMs) / k;
      return {
        emptyRequestMs: emptyMs,
        intake: at("intake"),
        baseline: at("baseline"),
        stages: breakdown
          ? {
              bareDecrypt: at("baseline:open"),
              hpkeOpen: at("intake:open"),
              validateStrip: at("intake:validate") - at("intake:open"),
              segmentedSeal: at("intake") - at("intake:validate"),
              intakeWith64KiBSegments: at("intake:all:16"),
              intakeUnfused: at("intake:unfused"),
            }
          : null,
      };
    };
    const best = perRound((xs) => Math.min(...xs));
    const med = perRound(median);
    const intakeMs = best.intake;
    const baselineMs = best.baseline;
    const stagesMs = best.stages;
    const peak = {};
    for (const mode of ["empty", "baseline", "intake"]) peak[mode] = await peakMb(input, small, mode);
    const n = input.photo.length;
    // By construction, what one upload keeps referenced at its peak: while HPKE opens, the ciphertext body
    // (n + 16) and the plaintext (n); from then on the body is garbage (POST /v1/photos keeps no reference)
    // and sealing holds the plaintext (stripped in place; segments are views of it), the scan window
    // (64 KiB + 1, shared by the isolate) and one sealed segment (+ 16) at a time.
    const heldBytes = Math.max(n + 16 + n, n + 64 * 1024 + 1 + Math.min(SEGMENT, n) + 16);
    const row = {
      sizeMb,
      k,
      intakeMsPerRound: intakeMs,
      baselineMsPerRound: baselineMs,
      ratio: intakeMs / baselineMs,
      emptyRequestMs: best.emptyRequestMs,
      stagesMs,
      medianBased: { ...med, ratio: med.intake / med.baseline },
      heldByConstructionMb: heldBytes / MB,
      heldOverPhoto: heldBytes / n,
      peakRssMb: peak,
      intakeOverEmptyMb: peak.intake - peak.empty,
      baselineOverEmptyMb: peak.baseline - peak.empty,
      intakeOverPhoto: (peak.intake - peak.empty) / sizeMb,
    };
    results.push(row);
    log(
      `${sizeMb} MB: intake ${intakeMs.toFixed(1)} ms/round, baseline ${baselineMs.toFixed(1)} ms/round, ratio ${row.ratio.toFixed(2)}x; ` +
        `peak RSS +${peak.intake.toFixed(1)} / +${peak.baseline.toFixed(1)} / +${peak.empty.toFixed(1)} MB (intake / baseline / empty)` +
        (stagesMs ? `; stages: HPKE open ${stagesMs.hpkeOpen.toFixed(1)} (bare decrypt ${stagesMs.bareDecrypt.toFixed(1)}), header parse+strip ${stagesMs.validateStrip.toFixed(1)}, HKDF+scan+seal ${stagesMs.segmentedSeal.toFixed(1)} ms; intake with 64 KiB segments ${stagesMs.intakeWith64KiBSegments.toFixed(1)} ms, unfused ${stagesMs.intakeUnfused.toFixed(1)} ms` : ""),
    );
  }
  return results;
}

export function formatIsolated(results, runs) {
  const pad = (s, n) => String(s).padStart(n);
  return [
    `Isolated intake (bench/intake/worker.ts on wrangler dev / workerd): fastest of ${runs} interleaved requests per mode, per round = (request - empty request) / K`,
    "",
    `${pad("size", 6)} ${pad("K", 4)} ${pad("intake ms", 10)} ${pad("base ms", 8)} ${pad("ratio", 7)} ${pad("held MB", 8)} ${pad("x photo", 8)} ${pad("RSS+ intake", 12)} ${pad("base", 6)} ${pad("empty", 6)} ${pad("(in-em)/photo", 14)}`,
    ...results.map(
      (r) =>
        `${pad(`${r.sizeMb} MB`, 6)} ${pad(r.k, 4)} ${pad(r.intakeMsPerRound.toFixed(1), 10)} ${pad(r.baselineMsPerRound.toFixed(1), 8)} ${pad(`${r.ratio.toFixed(2)}x`, 7)} ${pad(
          r.heldByConstructionMb.toFixed(1),
          8,
        )} ${pad(`${r.heldOverPhoto.toFixed(2)}x`, 8)} ${pad(r.peakRssMb.intake.toFixed(1), 12)} ${pad(r.peakRssMb.baseline.toFixed(1), 6)} ${pad(r.peakRssMb.empty.toFixed(1), 6)} ${pad(
          `${r.intakeOverPhoto.toFixed(2)}x`,
          14,
        )}`,
    ),
    "",
    "ratio = intake / baseline per round (HPKE open + validate/strip + HKDF + JPEG scan + segmented AES-256-GCM vs bare AES-256-GCM decrypt + encrypt); goal <= 1.50x at 10 MB.",
    "held = bytes one upload keeps referenced at its peak, by construction: max(ciphertext + plaintext while opening, plaintext + scan window + one sealed segment while sealing); goal <= 3x the photo.",
    "RSS+ = workerd peak RSS (VmHWM) minus RSS before, over one K=1 request on a fresh warmed Worker, per mode; (in-em) = intake minus empty, what processing adds.",
    ...goalLines(results),
  ].join("\n");
}

/** The issue's two goals, judged on this run: speed at 10 MB, memory at every size measured. */
function goalLines(results) {
  const ten = results.find((r) => r.sizeMb === 10);
  const worstHeld = Math.max(...results.map((r) => r.heldOverPhoto));
  const worstRss = Math.max(...results.map((r) => r.intakeOverPhoto));
  const verdict = (ok) => (ok ? "met" : "NOT met");
  return [
    "",
    ten ? `goal, speed: ${ten.ratio.toFixed(2)}x at 10 MB (<= 1.50x): ${verdict(ten.ratio <= 1.5)}` : "goal, speed: judged at 10 MB, not measured in this run",
    `goal, memory: held ${worstHeld.toFixed(2)}x, measured (intake - empty) ${worstRss.toFixed(2)}x of the photo at worst (<= 3x): ${verdict(worstHeld <= 3 && worstRss <= 3)}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: opts } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      sizes: { type: "string", default: "1,5,10" },
      "mb-per-request": { type: "string", default: "80" },
      breakdown: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const runs = Number(opts.runs);
  runIsolated({ runs, sizesMb: opts.sizes.split(",").map(Number), mbPerRequest: Number(opts["mb-per-request"]), breakdown: opts.breakdown })
    .then((results) => {
      process.stdout.write(opts.json ? `${JSON.stringify({ runs, node: process.version, results }, null, 2)}\n` : `${formatIsolated(results, runs)}\n`);
    })
    .catch((err) => {
      process.stderr.write(`[bench isolated] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    });
}
