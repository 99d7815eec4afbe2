// `npm run test:e2e [-- files...]`: builds the SPA, starts its own copy of
// the app (scripts/start.mjs) on free ports with a throwaway D1/R2 state,
// serves the built SPA with its production _headers through `vite preview`,
// runs the browser tests with Node's test runner, and stops everything.
// The output ends with node:test's pass/fail counts.
// E2E_TAP_FILE=<path> also writes a TAP report (used by .ci/run to count).
// E2E_VERBOSE=1 echoes the app's own logs.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startApp, stopAll } from "../../scripts/start.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HERE = fileURLToPath(new URL(".", import.meta.url));
const CHROMIUM = process.env.BABYPIC_CHROMIUM ?? "/usr/bin/chromium";
const verbose = process.env.E2E_VERBOSE === "1";

function log(message) {
  console.log(`[e2e] ${message}`);
}

function testFiles(args) {
  if (args.length) return args.map((a) => resolve(process.cwd(), a));
  return readdirSync(HERE, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".test.mjs"))
    .sort()
    .map((f) => join(HERE, f));
}

function run(args, env = {}, { quiet = false } = {}) {
  return new Promise((resolvePromise) => {
    const out = [];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    if (quiet) for (const s of [child.stdout, child.stderr]) s.on("data", (d) => out.push(String(d)));
    child.on("exit", (code, signal) => resolvePromise({ code: code ?? (signal ? 1 : 0), output: out.join("") }));
  });
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.error(`[e2e] no Chromium at ${CHROMIUM}. Install Debian's: sudo apt-get install -y chromium (or set BABYPIC_CHROMIUM).`);
    return 1;
  }
  const files = testFiles(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), "babypic-e2e-"));
  const webOut = join(scratch, "web");
  process.env.BABYPIC_WEB_OUTDIR = webOut;
  const cleanup = async () => {
    await stopAll();
    rmSync(scratch, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => void cleanup().then(() => process.exit(130)));
  }

  try {
    const t0 = Date.now();
    // The local provider, never Clerk, whatever web/.env.local says.
    const build = await run([join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", join(ROOT, "web/vite.config.ts"), "--logLevel", "warn"], {
      VITE_CLERK_PUBLISHABLE_KEY: "",
      VITE_API_URL: "",
    }, { quiet: true });
    if (build.code !== 0) {
      console.error(`[e2e] building the SPA failed:\n${build.output}`);
      return 1;
    }
    const ports = { api: await freePort(), web: await freePort(), fal: await freePort(), creem: await freePort() };
    const app = await startApp({ ports, persistTo: join(scratch, "state"), web: "preview", echo: verbose, inspectorPort: await freePort() });
    log(`app ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${app.url} (API ${app.apiUrl}); running ${files.length} file(s)`);

    const tap = process.env.E2E_TAP_FILE ? resolve(process.cwd(), process.env.E2E_TAP_FILE) : null;
    if (tap) mkdirSync(dirname(tap), { recursive: true });
    const result = await run(
      [
        "--test",
        "--test-concurrency=1",
        "--test-timeout=120000",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        ...(tap ? ["--test-reporter=tap", `--test-reporter-destination=${tap}`] : []),
        ...files.map((f) => relative(ROOT, f)),
      ],
      // The local Fal fake's test controls (POST /_control), absent when FAL_KEY selects the real Fal.
      { BABYPIC_E2E_URL: app.url, BABYPIC_E2E_API_URL: app.apiUrl, BABYPIC_E2E_FAL_URL: app.usingRealFal ? "" : `http://127.0.0.1:${ports.fal}` },
    );
    const dead = app.services.filter((s) => !s.running);
    for (const s of dead) console.error(`[e2e] ${s.describeExit()}`);
    return result.code === 0 && dead.length === 0 ? 0 : 1;
  } catch (err) {
    console.error(`[e2e] ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await cleanup();
  }
}

process.exit(await main());
