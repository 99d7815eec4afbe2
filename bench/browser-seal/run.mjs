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
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { log, median, runBench, withBenchPage } from "../lib/browser-bench.mjs";

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

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x) => `${x.toFixed(1)} ms`;
const MB = (n) => `${(n / 1e6).toFixed(2)} MB`;

function main() {
  const ready = () => typeof globalThis.runBench === "function";
  return withBenchPage({ root: HERE, tmpPrefix: "babypic-bench-seal-", ready }, async ({ page, context, errors }) => {
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
  });
}

runBench(main);
