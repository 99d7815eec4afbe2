// Shared harness of the browser benchmarks (bench/browser-seal, bench/face-check):
// build a page with Vite into a temporary directory, serve it on 127.0.0.1 (a
// secure context, so WebCrypto works), open it in Debian's Chromium headless with
// playwright-core, hand the page to the bench, and clean everything up after.
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { build } from "vite";
import { CHROMIUM, CHROMIUM_ARGS } from "../../test/e2e/helpers.mjs";

export const log = (m) => process.stderr.write(`[bench] ${m}\n`);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/**
 * Serves the files under `dir` on a free port of 127.0.0.1.
 * `headers` are added to every 200 response; `onFile(path, body)` sees every file served.
 */
function serve(dir, { headers = {}, onFile } = {}) {
  const server = createServer((req, res) => {
    const path = normalize(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "") || "index.html";
    if (path.startsWith("..")) {
      res.writeHead(400).end();
      return;
    }
    try {
      const body = readFileSync(join(dir, path));
      onFile?.(path, body);
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", ...headers }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/**
 * Builds the Vite page in `root`, serves it, opens it in headless Chromium and waits
 * until `ready()` (evaluated in the page) is true, then calls `run({ page, context, errors })`
 * and returns its result. `errors` collects uncaught page errors (and, with
 * `httpErrors`, responses >= 400 other than the favicon); `run` decides when to check it.
 * `tmpPrefix` names the build directory; `headers`/`onFile` go to the static server.
 */
export async function withBenchPage({ root, tmpPrefix, ready, headers, onFile, httpErrors = false }, run) {
  const out = mkdtempSync(join(tmpdir(), tmpPrefix));
  const browserDir = mkdtempSync(join(tmpdir(), "babypic-bench-chromium-"));
  let server;
  let context;
  try {
    log("building the benchmark page with Vite");
    await build({
      configFile: false,
      root,
      // "warn" would repeat that @hpke/common's optional Node "crypto" import is externalized (it uses WebCrypto in browsers).
      logLevel: "error",
      build: { outDir: out, emptyOutDir: true, target: "es2022", modulePreload: false },
    });
    server = await serve(out, { headers, onFile });
    const url = `http://127.0.0.1:${server.address().port}/index.html`;
    context = await chromium.launchPersistentContext(browserDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    if (httpErrors) {
      page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && errors.push(`${r.status()} ${r.url()}`));
    }
    await page.goto(url);
    await page.waitForFunction(ready);
    return await run({ page, context, errors });
  } finally {
    await context?.close();
    server?.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(browserDir, { recursive: true, force: true });
  }
}

/** Runs the bench's `main()` and exits with its code, or 1 after printing the error. */
export function runBench(main) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`[bench] ${err instanceof Error ? err.stack : String(err)}`);
      process.exit(1);
    },
  );
}
