/**
 * The integrator flow against a running local app (issue 7): starts the same
 * stack as `npm start` (wrangler dev with local D1/R2/Queues, the local Fal
 * and Creem fakes, the SPA) on free ports with a throwaway state directory,
 * then
 *  - runs examples/integrator.ts, which uses only the documented API with an
 *    API key: seal and upload two photos, generate with an Idempotency-Key,
 *    poll, fetch the result by its signed link, delete;
 *  - buys a credit pack end to end: checkout, the fake Creem's Pay button,
 *    its signed webhook, the balance;
 *  - drives the command-line client (`npm run -s cli -- …`, scripts/cli.ts on
 *    the client library client/index.ts) through me, upload, generate --wait,
 *    download and delete-generation, and its errors.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations.
import { freePort, startApp } from "../../scripts/start.mjs";
import { photoPng as photo } from "../fixtures/gradient-png.mjs";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

interface RunningApp {
  apiUrl: string;
  stop: () => Promise<unknown>;
}

let app: RunningApp | undefined;
let dir = "";
let token = "";

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  if (!app) throw new Error("app not started");
  const headers = new Headers(init.headers);
  if (token && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
  return fetch(`${app.apiUrl}${path}`, { ...init, headers });
}

/** Creates a one-day API key with the scopes the whole flow needs (upload, generate, read); returns its secret. */
async function createApiKey(name: string): Promise<string> {
  const created = await api("/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, scopes: ["account:read", "photos:write", "generations:write", "generations:read"], expiresInDays: 1 }),
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { secret: string }).secret;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "babypic-integrator-"));
  const ports = { api: await freePort(), web: await freePort(), fal: await freePort(), creem: await freePort() };
  app = (await startApp({ ports, persistTo: join(dir, "state"), echo: false })) as RunningApp;
  const session = await api("/v1/dev/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "alice" }),
  });
  expect(session.status).toBe(200);
  token = ((await session.json()) as { token: string }).token;
  // Consent is given once, by the person, in the app (a session); keys cannot give it.
  const consent = (await (await api("/v1/me/consent")).json()) as { termsVersion: string };
  const given = await api("/v1/me/consent", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ termsVersion: consent.termsVersion, peopleConsent: true }),
  });
  expect(given.status).toBe(200);
}, 240_000);

afterAll(async () => {
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("integrator flow against the running app", () => {
  it("examples/integrator.ts runs the whole flow with an API key", async () => {
    const secret = await createApiKey("integrator test");
    const mother = join(dir, "mother.png");
    const father = join(dir, "father.png");
    const out = join(dir, "baby.out");
    writeFileSync(mother, photo(1));
    writeFileSync(father, photo(2));

    const run = spawnSync(process.execPath, [join(ROOT, "examples", "integrator.ts"), mother, father, out], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, BABYPIC_API_URL: app?.apiUrl ?? "", BABYPIC_API_KEY: secret },
      timeout: 240_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/uploaded pho_[0-9a-f]{32} and pho_[0-9a-f]{32}/);
    expect(run.stdout).toMatch(/saved \d+ bytes/);
    expect(run.stdout).toMatch(/the signed link now answers 4\d\d/);
    const generationId = /generation (gen_[0-9a-f]{32})/.exec(run.stdout)?.[1];
    expect((await api(`/v1/generations/${generationId ?? ""}`)).status).toBe(404);
  }, 300_000);

  it("a user buys credits end to end through the local fake Creem", async () => {
    const before = ((await (await api("/v1/billing/balance")).json()) as { credits: number }).credits;
    const packs = ((await (await api("/v1/billing/packs")).json()) as { packs: { productId: string; credits: number }[] }).packs;
    const pack = packs[0];
    if (!pack) throw new Error("no packs configured");
    const checkout = await api("/v1/billing/checkout", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId: pack.productId }),
    });
    expect(checkout.status).toBe(201);
    const { checkoutUrl } = (await checkout.json()) as { checkoutUrl: string };
    const page = await fetch(checkoutUrl);
    expect(await page.text()).toContain("Test payment — no money moves");
    const pay = await fetch(`${checkoutUrl}/pay`, { method: "POST", redirect: "manual" });
    expect(pay.status).toBe(303);
    const after = ((await (await api("/v1/billing/balance")).json()) as { credits: number }).credits;
    expect(after).toBe(before + pack.credits);
    const ledger = (await (await api("/v1/billing/ledger?limit=1")).json()) as { entries: { reason: string; delta: number }[] };
    expect(ledger.entries[0]).toMatchObject({ reason: "purchase", delta: pack.credits });
  }, 120_000);
});

/** Runs the CLI the way the README shows it (`npm run -s cli -- …`), with the environment it documents. */
function cli(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync("npm", ["run", "-s", "cli", "--", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("the command-line client against the running app", () => {
  let env: Record<string, string> = {};

  beforeAll(async () => {
    env = { BABYPIC_API: app?.apiUrl ?? "", BABYPIC_TOKEN: await createApiKey("cli test") };
  });

  it("me, upload, generate --wait, download and delete-generation print JSON and exit 0", () => {
    const me = cli(["me"], env);
    expect(me.status).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ id: expect.stringMatching(/^usr_/), via: "api_key" });

    const ids: string[] = [];
    for (const seed of [3, 4]) {
      const file = join(dir, `parent-${seed}.png`);
      writeFileSync(file, photo(seed));
      const up = cli(["upload", file], env);
      expect(up.stderr).toBe("");
      expect(up.status).toBe(0);
      const photoBody = JSON.parse(up.stdout) as { id: string; contentType: string };
      expect(photoBody.id).toMatch(/^pho_[0-9a-f]{32}$/);
      ids.push(photoBody.id);
    }

    const gen = cli(
      ["generate", "--mother", ids[0] ?? "", "--father", ids[1] ?? "", "--gender", "girl", "--age", "toddler", "--images", "2", "--wait"],
      env,
    );
    expect(gen.status).toBe(0);
    const generation = JSON.parse(gen.stdout) as { id: string; status: string; outputs: { id: string }[] };
    expect(generation.status).toBe("completed");
    expect(generation.outputs).toHaveLength(2);
    expect(gen.stderr).toMatch(/completed completed 100%/);

    const out = join(dir, "cli-out");
    const down = cli(["download", generation.id, "--out", out], env);
    expect(down.status).toBe(0);
    const saved = JSON.parse(down.stdout) as { files: { path: string; bytes: number; contentType: string }[] };
    expect(saved.files).toHaveLength(2);
    for (const f of saved.files) {
      const bytes = readFileSync(f.path);
      expect(bytes.byteLength).toBe(f.bytes);
      expect([...bytes.subarray(0, 2)]).toEqual(f.contentType === "image/png" ? [0x89, 0x50] : [0xff, 0xd8]);
    }

    const del = cli(["delete-generation", generation.id], env);
    expect(del.status).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({ kind: "generation", deletedAt: expect.any(String) });

    // Gone: the API's problem is printed (title and detail), and the exit code says it failed.
    const again = cli(["download", generation.id], env);
    expect(again.status).toBe(1);
    expect(again.stdout).toBe("");
    expect(again.stderr).toMatch(/^error: .+\n.+/);
    expect(again.stderr).toMatch(/request id/);
  }, 300_000);

  it("errors: a bad token prints the problem without the token; bad usage exits 2 with the usage", () => {
    const bad = cli(["me"], { ...env, BABYPIC_TOKEN: "bp_not_a_real_key_0123456789" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: /);
    expect(bad.stderr).not.toContain("bp_not_a_real_key_0123456789");

    for (const args of [
      ["generate", "--mother", "pho_x"],
      ["upload", "photo.gif"],
      ["frobnicate"],
      ["generate", "--images", "nine", "--mother", "a", "--father", "b"],
    ]) {
      const run = cli(args, env);
      expect(run.status, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("usage: npm run -s cli -- <command>");
    }
    const noToken = cli(["me"], { ...env, BABYPIC_TOKEN: "" });
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toContain("BABYPIC_TOKEN");
  }, 120_000);
});
