/**
 * The README's quick start runs as written (issue 18's proof; issue 19 item 7).
 *
 * Starts `npm start` itself (scripts/start.mjs, as a person would) on ports
 * other than the defaults (BABYPIC_*_PORT) with a throwaway state
 * (BABYPIC_STATE_DIR), waits for its banner, then runs with bash, in the
 * repository root and without BABYPIC_API or BABYPIC_TOKEN set:
 *  - the curl and the CLI line the banner prints;
 *  - every ```sh block of the README's "Try the API with curl" and
 *    "Integrators" sections, extracted from README.md as they are (token,
 *    curl, consent, upload, generate --wait, download, delete-generation).
 * So the token's `azp`, the CLI's default API and the curl URLs must all
 * follow the ports the app runs on. `npm install` of the first block is not
 * run (the suite runs after it). The app is stopped by its process group.
 *
 * README_QUICKSTART_DEFAULT_PORTS=1 runs the same on the default ports
 * (5173, 8787, 8788, 8789), which must be free: by hand, not in CI.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations.
import { freePort } from "../../scripts/start.mjs";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const DEFAULT_PORTS = { api: 8787, web: 5173, fal: 8788, creem: 8789 };
const onDefaultPorts = process.env["README_QUICKSTART_DEFAULT_PORTS"] === "1";

/** The ```sh blocks of the README section whose heading starts with `heading`, up to the next heading of any level. */
export function shBlocks(markdown: string, heading: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^#{2,4} /.test(l) && l.replace(/^#+ /, "").startsWith(heading));
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = lines.findIndex((l, i) => i > start && /^#{1,4} /.test(l));
  const section = lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment a person's shell would have: none of the variables the commands are meant to set themselves. */
function shellEnv(): NodeJS.ProcessEnv {
  const unset = new Set(["BABYPIC_API", "BABYPIC_TOKEN", "TOKEN", "API", "MOTHER", "FATHER", "GEN", "NODE_OPTIONS", "VITEST", "VITEST_POOL_ID", "VITEST_WORKER_ID"]);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.has(k)));
}

function bash(script: string): Run {
  // -e: stop at the first failing command (a person would notice it); no pipefail, as in an interactive shell
  // (`curl … | head -c 300` ends curl with a write error by design).
  const r = spawnSync("bash", ["-eu", "-c", script], { cwd: ROOT, env: shellEnv(), encoding: "utf8", timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Signals the process group `npm start` leads (it was spawned detached); gone already is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

let app: ChildProcess | undefined;
let output = "";
let banner = "";
let stateDir = "";
let ports = DEFAULT_PORTS;
const resultsDir = join(ROOT, "results");
let resultsExisted = false;

async function waitForBanner(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += String(d);
      const at = output.indexOf("BabyPic is running:");
      if (at >= 0 && output.indexOf("Press Ctrl-C", at) > 0) resolve(output.slice(at));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => (output += String(d)));
    child.on("exit", (code) => reject(new Error(`npm start exited (${code}) before it was ready:\n${output.slice(-3000)}`)));
  });
}

beforeAll(async () => {
  resultsExisted = existsSync(resultsDir);
  stateDir = mkdtempSync(join(tmpdir(), "babypic-quickstart-"));
  ports = onDefaultPorts ? DEFAULT_PORTS : { api: await freePort(), web: await freePort(), fal: await freePort(), creem: await freePort() };
  app = spawn("npm", ["start"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...shellEnv(),
      BABYPIC_API_PORT: String(ports.api),
      BABYPIC_WEB_PORT: String(ports.web),
      BABYPIC_FAL_PORT: String(ports.fal),
      BABYPIC_CREEM_PORT: String(ports.creem),
      BABYPIC_STATE_DIR: join(stateDir, "state"),
    },
  });
  banner = await waitForBanner(app);
}, 300_000);

afterAll(async () => {
  if (app?.pid && app.exitCode === null) {
    const exited = new Promise((r) => app?.once("exit", r));
    signalGroup(app.pid, "SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  // Whatever of the group is left (npm start stops its own children on SIGINT).
  if (app?.pid) signalGroup(app.pid, "SIGKILL");
  if (!resultsExisted) rmSync(resultsDir, { recursive: true, force: true });
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe("the README's quick start, as written, against npm start", () => {
  it(`runs on ${onDefaultPorts ? "the default" : "non-default"} ports, and the banner names them`, () => {
    if (!onDefaultPorts) expect(Object.values(ports).some((p) => Object.values(DEFAULT_PORTS).includes(p))).toBe(false);
    expect(banner).toContain(`BabyPic is running: http://127.0.0.1:${ports.web}`);
    expect(banner).toContain(`API http://127.0.0.1:${ports.api}/v1`);
  });

  it("the curl and the CLI line the npm start banner prints work as printed", () => {
    const curl = banner.match(/Try the API: (curl .+)$/m)?.[1];
    expect(curl).toContain(`http://127.0.0.1:${ports.api}/v1/me`);
    const me = bash(curl ?? "false");
    expect(me.status, me.stderr).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ id: expect.stringMatching(/^usr_/), via: "session" });

    const cli = banner.match(/Or the CLI: (.+)$/m)?.[1];
    expect(cli).toMatch(/npm run -s cli -- me$/);
    const viaCli = bash(cli ?? "false");
    expect(viaCli.status, viaCli.stderr).toBe(0);
    expect(JSON.parse(viaCli.stdout)).toMatchObject({ id: JSON.parse(me.stdout).id });
  }, 120_000);

  it('"Try the API with curl": the token, the curls and the step-up example', () => {
    const [first, stepUp, ...rest] = shBlocks(README, "Try the API with curl");
    expect(rest).toEqual([]);
    expect(first).toContain("npm run -s token -- alice");
    const r = bash(first ?? "false");
    expect(r.status, r.stderr).toBe(0);
    // The first curl prints /v1/me, the second the start of the OpenAPI document.
    const meJson = r.stdout.slice(0, r.stdout.indexOf("}{") + 1 || undefined);
    expect(JSON.parse(meJson)).toMatchObject({ id: expect.stringMatching(/^usr_/) });
    expect(r.stdout).toContain('"openapi":"3.1');

    const s = bash(stepUp ?? "false");
    expect(s.status, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ status: 403, code: "reverification_required" });
  }, 120_000);

  it('"Integrators": token, me, consent, upload, generate --wait, download and delete-generation', () => {
    const blocks = shBlocks(README, "Integrators");
    expect(blocks).toHaveLength(1);
    const block = blocks[0] ?? "";
    for (const step of ["token -- alice", "cli -- me", "consent --accept", "upload ", "generate ", "--wait", "download ", "delete-generation "]) expect(block).toContain(step);
    // Run as written; afterwards print what the block's variables hold.
    const r = bash(`${block}\nprintf '\\n@@ %s %s %s\\n' "$MOTHER" "$FATHER" "$GEN"`);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const [mother, father, gen] = (r.stdout.match(/^@@ (.+)$/m)?.[1] ?? "").split(" ");
    expect(mother).toMatch(/^pho_[0-9a-f]{32}$/);
    expect(father).toMatch(/^pho_[0-9a-f]{32}$/);
    expect(gen).toMatch(/^gen_[0-9a-f]{32}$/);
    // The generation reached its final status, its images were saved, then it was deleted (a receipt).
    expect(r.stderr).toMatch(/completed/);
    const saved = [...r.stdout.matchAll(/"path": "([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(saved.length).toBeGreaterThan(0);
    for (const path of saved) {
      expect(path.startsWith(resultsDir)).toBe(true);
      expect(readdirSync(resultsDir)).toContain(path.slice(resultsDir.length + 1));
      const head = [...readFileSync(path).subarray(0, 2)];
      expect([[0x89, 0x50], [0xff, 0xd8], [0x52, 0x49]]).toContainEqual(head);
    }
    expect(r.stdout).toMatch(/"kind": "generation"/);
    expect(r.stdout).toMatch(/"deletedAt"/);
  }, 300_000);
});
