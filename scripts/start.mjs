// `npm start` (and `npm run dev`): the whole app on loopback with nothing but
// Node. Makes `.dev.vars` if missing, applies D1 migrations to the local state
// under .wrangler/, starts `wrangler dev` (Worker with local D1/R2/Queues),
// the Vite dev server (which proxies /v1 to the Worker, so the SPA is
// same-origin) and the local Fal/Creem fakes when their scripts exist, waits
// for /v1/health and prints the URL. Ctrl-C or SIGTERM stops every child.
//
// The functions are exported for the browser tests (test/e2e/run.mjs) and the
// API type generator (scripts/api-types.mjs), which start their own copy on
// free ports with a throwaway state directory.
//
// Ports: BABYPIC_API_PORT, BABYPIC_WEB_PORT, BABYPIC_FAL_PORT, BABYPIC_CREEM_PORT.
/* global AbortSignal */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT, readDevVars } from "./lib/dev-vars.mjs";
import { redactLine } from "./lib/redact.mjs";
import { setup } from "./setup.mjs";

export const DEFAULT_PORTS = Object.freeze({ api: 8787, web: 5173, fal: 8788, creem: 8789 });
const HOST = "127.0.0.1";
const NODE = process.execPath;
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const VITE = join(ROOT, "node_modules", "vite", "bin", "vite.js");
const FAKES = [
  { name: "fal", script: join(ROOT, "scripts", "fal-local.mjs"), port: "fal" },
  { name: "creem", script: join(ROOT, "scripts", "creem-local.mjs"), port: "creem" },
];
// Nothing outside the machine is contacted unless configured: no usage
// metrics, no fetch of Cloudflare's `Request.cf` sample, no update check.
const OFFLINE_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_UPDATE_NOTIFIER: "1" };

const live = new Set();
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g; // eslint-disable-line no-control-regex

export function say(message) {
  console.log(`[start] ${message}`);
}

/**
 * A child process in its own process group, so that stopping it reaches
 * everything it spawned (wrangler runs a second node and workerd) by the PID
 * of the process we started, never by name.
 */
export class Service {
  constructor(name, args, { env = {}, echo = true } = {}) {
    this.name = name;
    this.tail = [];
    this.child = spawn(NODE, args, {
      cwd: ROOT,
      env: { ...process.env, ...OFFLINE_ENV, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.pid = this.child.pid;
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
      this.child.on("error", (err) => {
        this.tail.push(`failed to start: ${err.message}`);
        this.exitCode = 127;
        resolve();
      });
    });
    const tty = Boolean(process.stdout.isTTY);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        // Signed URLs never reach the kept tail or the terminal (issue 14 §5).
        const shown = redactLine(line);
        const plain = shown.replace(ANSI, "");
        this.tail.push(plain);
        if (this.tail.length > 60) this.tail.shift();
        if (echo && plain.trim()) console.log(`[${name}] ${tty ? shown : plain}`);
      });
    }
  }

  get running() {
    return this.exitCode === undefined;
  }

  groupAlive() {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM to the group, then SIGKILL to whatever is left after `graceMs`. */
  async stop(graceMs = 5000) {
    if (this.pid === undefined) return;
    if (this.groupAlive()) {
      try {
        process.kill(-this.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const deadline = Date.now() + graceMs;
      while (this.groupAlive() && Date.now() < deadline) await sleep(100);
      if (this.groupAlive()) {
        try {
          process.kill(-this.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    await Promise.race([this.exited, sleep(1000)]);
    live.delete(this);
  }

  describeExit() {
    const how = this.exitSignal ? `signal ${this.exitSignal}` : `code ${this.exitCode}`;
    return `${this.name} exited (${how}). Its last output:\n  ${this.tail.slice(-25).join("\n  ")}`;
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Stops every child this process started, in parallel. */
export async function stopAll() {
  await Promise.all([...live].map((s) => s.stop()));
}

export function portIsFree(port, host = HOST) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export function freePort(host = HOST) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Best effort (Linux /proc): which process listens on a TCP port. */
export function portOwner(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const row of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols.length > 9 && cols[1].endsWith(`:${hex}`) && cols[3] === "0A") inodes.add(cols[9]);
    }
  }
  if (!inodes.size) return null;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) {
        let cmd = "";
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        } catch {
          // process just exited
        }
        return { pid: Number(pid), cmd: cmd.length > 140 ? `${cmd.slice(0, 137)}...` : cmd };
      }
    }
  }
  return null;
}

/** Fails with one clear message listing every busy port and who holds it. */
export async function assertPortsFree(wanted) {
  const busy = [];
  for (const [what, port] of Object.entries(wanted)) {
    if (await portIsFree(port)) continue;
    const owner = portOwner(port);
    const who = owner ? `pid ${owner.pid}: ${owner.cmd}` : "another process";
    busy.push(`  port ${port} (${what}) is in use by ${who}`);
  }
  if (busy.length) {
    throw new Error(
      `cannot start, ports are busy:\n${busy.join("\n")}\n` +
        "  If that is an earlier `npm start`, stop it (Ctrl-C in its terminal, or kill <pid>).\n" +
        "  Or pick other ports: BABYPIC_API_PORT=8797 BABYPIC_WEB_PORT=5183 npm start",
    );
  }
}

function persistArgs(persistTo) {
  return persistTo ? ["--persist-to", persistTo] : [];
}

/** `wrangler d1 migrations apply DB --local` (state under .wrangler/ unless persistTo). */
export async function migrate({ persistTo } = {}) {
  const s = new Service("migrate", [WRANGLER, "d1", "migrations", "apply", "DB", "--local", ...persistArgs(persistTo)], {
    // Non-interactive: wrangler takes its default ("yes") for the prompt.
    env: { CI: "true" },
    echo: false,
  });
  await s.exited;
  live.delete(s);
  if (s.exitCode !== 0) throw new Error(`D1 migrations failed: ${s.describeExit()}`);
  const done = s.tail.find((l) => /No migrations to apply|commands executed successfully/.test(l));
  return `D1 migrations (local): ${done ? done.replace(/^[^\p{L}\p{N}]+/u, "") : "applied"}`;
}

let configCache;
/** Top-level (development) and production vars from wrangler.toml, read by wrangler itself. */
async function wranglerVars() {
  if (!configCache) {
    const { unstable_readConfig } = await import("wrangler");
    const config = join(ROOT, "wrangler.toml");
    configCache = {
      dev: unstable_readConfig({ config }, { hideWarnings: true }).vars ?? {},
      production: unstable_readConfig({ config, env: "production" }, { hideWarnings: true }).vars ?? {},
    };
  }
  return configCache;
}

/**
 * `--var` overrides so the Worker's URLs follow the ports actually used, and
 * so that a FAL_KEY in .dev.vars means the real Fal (its production URLs).
 */
export async function workerVars(ports, devVars = {}) {
  const { dev, production } = await wranglerVars();
  const out = {};
  for (const [key, value] of Object.entries(dev)) {
    if (typeof value !== "string" || key in devVars) continue;
    let next = value;
    for (const [what, port] of Object.entries(ports)) {
      const def = DEFAULT_PORTS[what];
      if (def !== undefined && port !== def)
        next = next.replace(new RegExp(`(127\\.0\\.0\\.1|localhost):${def}(?!\\d)`, "g"), `$1:${port}`);
    }
    if (next !== value) out[key] = next;
  }
  if (devVars.FAL_KEY) {
    for (const key of ["FAL_QUEUE_URL", "FAL_JWKS_URL"]) {
      if (!(key in devVars) && typeof production[key] === "string") out[key] = production[key];
    }
  }
  return out;
}

export function startWorker({ port, persistTo, vars = {}, inspectorPort, echo = true }) {
  const args = [WRANGLER, "dev", "--ip", HOST, "--port", String(port), "--show-interactive-dev-session=false", ...persistArgs(persistTo)];
  if (inspectorPort) args.push("--inspector-port", String(inspectorPort));
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  return new Service("api", args, { echo });
}

/** The SPA: Vite's dev server, or `vite preview` of web/dist (the built app with its _headers). */
export function startWeb({ port, apiPort, mode = "dev", echo = true }) {
  const args = [
    VITE,
    ...(mode === "preview" ? ["preview"] : []),
    "--config",
    join(ROOT, "web", "vite.config.ts"),
    "--host",
    HOST,
    "--port",
    String(port),
    "--strictPort",
  ];
  return new Service("web", args, { env: { BABYPIC_API_ORIGIN: `http://${HOST}:${apiPort}` }, echo });
}

/** The local Fal/Creem fakes whose scripts exist; not Fal's when FAL_KEY selects the real one. */
export function startFakes({ ports, devVars = {}, echo = true }) {
  const started = [];
  for (const fake of FAKES) {
    if (!existsSync(fake.script)) continue;
    if (fake.name === "fal" && devVars.FAL_KEY) continue;
    // The Creem fake signs its webhooks with the Worker's secret and sends them to this run's API port.
    const env =
      fake.name === "creem"
        ? { CREEM_WEBHOOK_SECRET: devVars.CREEM_WEBHOOK_SECRET ?? "", CREEM_API_KEY: devVars.CREEM_API_KEY ?? "", PUBLIC_API_URL: `http://${HOST}:${ports.api}` }
        : // The Fal stand-in deletes payloads only for the admin-scoped key the Worker holds.
          { FAL_LOCAL_ADMIN_KEY: devVars.FAL_ADMIN_KEY ?? "" };
    started.push(new Service(fake.name, [fake.script, "--port", String(ports[fake.port])], { echo, env }));
  }
  return started;
}

/**
 * wrangler dev does not fire cron triggers; the retention and deadline sweeps
 * (worker/scheduled.ts) rely on them, so fire the Worker's scheduled handler
 * on the same 5-minute schedule as wrangler.toml through wrangler's local
 * endpoint. Returns a function that stops the ticker.
 */
export function startCronTicker(apiUrl, everyMs = 5 * 60_000) {
  const tick = () =>
    fetch(`${apiUrl}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`, { signal: AbortSignal.timeout(60_000) })
      .then((res) => res.arrayBuffer())
      .catch(() => undefined);
  const timer = setInterval(tick, everyMs);
  return () => clearInterval(timer);
}

/** Polls `url` until it answers 2xx; fails early, with its output, if a service dies. */
export async function waitForHttp(url, services, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = services.find((s) => !s.running);
    if (dead) throw new Error(dead.describeExit());
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${Math.round(timeoutMs / 1000)} s`);
}

/**
 * Starts everything and resolves once the Worker's /v1/health and the SPA
 * answer. On failure every child started so far is stopped before rethrowing.
 */
export async function startApp({ ports = DEFAULT_PORTS, persistTo, web = "dev", echo = true, inspectorPort } = {}) {
  const { problems } = setup({ log: say });
  if (problems.length) throw new Error(problems.join("; "));
  const devVars = readDevVars() ?? {};
  const fakes = FAKES.filter((f) => existsSync(f.script) && !(f.name === "fal" && devVars.FAL_KEY)).map((f) => f.port);
  await assertPortsFree(
    Object.fromEntries(Object.entries(ports).filter(([what]) => what === "api" || what === "web" || fakes.includes(what))),
  );
  say(await migrate({ persistTo }));
  const vars = await workerVars(ports, devVars);
  const services = [];
  try {
    services.push(...startFakes({ ports, devVars, echo }));
    services.push(startWorker({ port: ports.api, persistTo, vars, inspectorPort, echo }));
    services.push(startWeb({ port: ports.web, apiPort: ports.api, mode: web, echo }));
    const apiUrl = `http://${HOST}:${ports.api}`;
    const url = `http://${HOST}:${ports.web}`;
    await waitForHttp(`${apiUrl}/v1/health`, services);
    await waitForHttp(`${url}/`, services);
    await waitForHttp(`${url}/v1/health`, services, 15_000);
    return { url, apiUrl, services, usingRealFal: Boolean(devVars.FAL_KEY), stop: () => Promise.all(services.map((s) => s.stop())) };
  } catch (err) {
    await Promise.all(services.map((s) => s.stop()));
    throw err;
  }
}

function portsFromEnv() {
  const ports = { ...DEFAULT_PORTS };
  for (const what of Object.keys(ports)) {
    const raw = process.env[`BABYPIC_${what.toUpperCase()}_PORT`];
    if (raw === undefined || raw === "") continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      console.error(`[start] BABYPIC_${what.toUpperCase()}_PORT must be a port number, not "${raw}"`);
      process.exit(2);
    }
    ports[what] = n;
  }
  return ports;
}

/**
 * Where the running `npm start` listens, for the token command (its `azp`
 * must be this run's app origin) and the CLI (its default API URL), so both
 * work on whatever ports were chosen. Removed when `npm start` stops.
 */
export const RUNNING_FILE = join(ROOT, ".wrangler", "running-app.json");

/** The running `npm start` app's URLs, or null when none runs. */
export function runningApp() {
  try {
    const info = JSON.parse(readFileSync(RUNNING_FILE, "utf8"));
    process.kill(info.pid, 0);
    return { appOrigin: String(info.appOrigin), apiUrl: String(info.apiUrl) };
  } catch {
    return null;
  }
}

/** Removes the running-app file if it still names this process (another `npm start` may have taken it over). */
function forgetRunningApp() {
  try {
    if (JSON.parse(readFileSync(RUNNING_FILE, "utf8")).pid === process.pid) rmSync(RUNNING_FILE, { force: true });
  } catch {
    // No file, or not ours to remove.
  }
}

async function main() {
  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    say("stopping...");
    forgetRunningApp();
    await stopAll();
    process.exit(code);
  };
  process.on("SIGINT", () => shutdown(0));
  process.on("SIGTERM", () => shutdown(0));
  process.on("SIGHUP", () => shutdown(0));

  let app;
  try {
    // BABYPIC_STATE_DIR: local D1/R2/Queues state somewhere other than .wrangler/state (a throwaway copy, as test/node/readme-quickstart.test.ts uses).
    app = await startApp({ ports: portsFromEnv(), persistTo: process.env.BABYPIC_STATE_DIR || undefined });
  } catch (err) {
    if (stopping) return;
    console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
    return;
  }
  startCronTicker(app.apiUrl);
  mkdirSync(join(ROOT, ".wrangler"), { recursive: true });
  writeFileSync(RUNNING_FILE, JSON.stringify({ pid: process.pid, appOrigin: app.url, apiUrl: app.apiUrl }));
  for (const s of app.services) {
    s.exited.then(() => {
      if (stopping) return;
      console.error(`[start] ${s.describeExit()}`);
      shutdown(1);
    });
  }
  const fal = app.usingRealFal ? "the real Fal.AI (FAL_KEY is set)" : "the local Fal fake (no FAL_KEY)";
  console.log(
    [
      "",
      `  BabyPic is running: ${app.url}`,
      `  API ${app.apiUrl}/v1 (OpenAPI at ${app.apiUrl}/v1/openapi.json); generation uses ${fal}.`,
      `  Sign in as a local user (alice, bob or carol). Try the API: curl -H "Authorization: Bearer $(npm run -s token -- alice)" ${app.apiUrl}/v1/me`,
      `  Or the CLI: BABYPIC_TOKEN=$(npm run -s token -- alice) npm run -s cli -- me`,
      "  Cron: the scheduled sweeps run every 5 minutes while this runs.",
      "  Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
}

if (import.meta.main) await main();
