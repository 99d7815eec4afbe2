// Browser-side prepare + seal benchmark (issue 3 §7): how long the SPA takes
// to turn a 12 MP photo into a sealed upload in Chromium, against baselines
// measured in the same page and run.
//
//   node scripts/node.mjs bench/browser-seal/run.mjs [--runs 10] [--width 4000] [--height 3000] [--json]
//   npm run bench:browser-seal
//
// Builds bench/browser-seal/page.ts with Vite (it imports the SPA's
// web/src/lib/photo-prepare.ts and worker/lib/upload-envelope.ts, the code the
// app runs), serves it on 127.0.0.1 (a secure context, so WebCrypto works),
// and drives Debian's Chromium headless with playwright-core. The page makes a
// 4000x3000 JPEG, then for each round measures:
//   prepare       preparePhoto(): checks, createImageBitmap with EXIF
//                 orientation, draw to 2048 px, JPEG encode
//   seal          sealUpload(): HPKE (P-256 DHKEM, HKDF-SHA256, AES-256-GCM)
//   bare resize   createImageBitmap + drawImage + JPEG encode, nothing else
//   aes-gcm       one WebCrypto AES-256-GCM encrypt of the same prepared bytes
// Ratios: (prepare + seal) / bare resize, and seal / aes-gcm.
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { build } from "vite";
import { CHROMIUM, CHROMIUM_ARGS } from "../../test/e2e/helpers.mjs";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    width: { type: "string", default: "4000" },
    height: { type: "string", default: "3000" },
    json: { type: "boolean", default: false },
  },
});
const RUNS = Number(opts.runs);
const WIDTH = Number(opts.width);
const HEIGHT = Number(opts.height);
const HERE = fileURLToPath(new URL(".", import.meta.url));
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x) => `${x.toFixed(1)} ms`;
const MB = (n) => `${(n / 1e6).toFixed(2)} MB`;

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "") || "index.html";
    if (path.startsWith("..")) {
      res.writeHead(400).end();
      return;
    }
    try {
      const body = readFileSync(join(dir, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function main() {
  const out = mkdtempSync(join(tmpdir(), "babypic-bench-seal-"));
  const browserDir = mkdtempSync(join(tmpdir(), "babypic-bench-chromium-"));
  let server;
  let context;
  try {
    log("building the benchmark page with Vite");
    await build({
      configFile: false,
      root: HERE,
      // "warn" would repeat that @hpke/common's optional Node "crypto" import is externalized (it uses WebCrypto in browsers).
      logLevel: "error",
      build: { outDir: out, emptyOutDir: true, target: "es2022", modulePreload: false },
    });
    server = await serve(out);
    const url = `http://127.0.0.1:${server.address().port}/index.html`;
    context = await chromium.launchPersistentContext(browserDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => typeof globalThis.runBench === "function");
    const version = context.browser()?.version() ?? (await page.evaluate(() => globalThis.navigator.userAgent));
    log(`Chromium ${version}; ${WIDTH}x${HEIGHT} photo, ${RUNS} rounds after one warm-up`);
    const r = await page.evaluate((input) => globalThis.runBench(input), { runs: RUNS, width: WIDTH, height: HEIGHT });
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);

    const s = r.samples;
    const row = (name, xs) => ({ name, median: median(xs), p90: pct(xs, 90), min: Math.min(...xs) });
    const rows = [
      row("prepare", s.prepare),
      row("seal", s.seal),
      row("prepare + seal", s.prepareSeal),
      row("bare resize (baseline)", s.bareResize),
      row("bare AES-256-GCM (baseline)", s.aesGcm),
    ];
    const ratioTotal = median(s.prepareSeal) / median(s.bareResize);
    const ratioSeal = median(s.seal) / median(s.aesGcm);
    if (opts.json) {
      console.log(JSON.stringify({ chromium: version, width: WIDTH, height: HEIGHT, runs: RUNS, ...r, ratioTotal, ratioSeal }, null, 2));
      return 0;
    }
    console.log(`photo ${WIDTH}x${HEIGHT} JPEG ${MB(r.photoBytes)} -> prepared ${r.preparedSize} ${MB(r.preparedBytes)} -> sealed ${MB(r.sealedBytes)} (+${r.sealedBytes - r.preparedBytes} bytes)`);
    console.log("");
    console.log("| step | median | p90 | min |");
    console.log("|---|---|---|---|");
    for (const x of rows) console.log(`| ${x.name} | ${ms(x.median)} | ${ms(x.p90)} | ${ms(x.min)} |`);
    console.log("");
    console.log(`prepare + seal / bare resize: ${ratioTotal.toFixed(2)}x (+${ms(median(s.prepareSeal) - median(s.bareResize))})`);
    console.log(`seal / bare AES-256-GCM:      ${ratioSeal.toFixed(2)}x (+${ms(median(s.seal) - median(s.aesGcm))})`);
    return 0;
  } finally {
    await context?.close();
    server?.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(browserDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[bench] ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
