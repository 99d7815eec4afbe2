/**
 * `npm run ops:provision` (issue 17, item 5) against a fake wrangler
 * (test/node/fake-wrangler.mjs) that answers like wrangler 4 and records each
 * invocation: it creates what is missing, finds what exists, writes the D1 id
 * into the configuration, and names the missing secrets without printing any
 * value. `deploy:dry-run` refuses placeholders and empty required values.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain .mjs module without types
import { deployProblems, readEnvConfig } from "../../scripts/lib/deploy-config.mjs";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "babypic-provision-"));
const toml = join(dir, "wrangler.toml");
const state = join(dir, "state.json");
const calls = join(dir, "calls.jsonl");
const fake = join(dir, "wrangler");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET_VALUE = "sk_test_must_never_be_printed_0123456789";

function provision(...args: string[]) {
  return spawnSync(process.execPath, [join(root, "scripts", "provision.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, BABYPIC_WRANGLER: fake, BABYPIC_WRANGLER_TOML: toml, FAKE_WRANGLER_STATE: state, FAKE_WRANGLER_CALLS: calls },
  });
}
const invocations = (): string[][] =>
  readFileSync(calls, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[]);
const creates = () => invocations().filter((a) => a.includes("create"));

beforeAll(() => {
  copyFileSync(join(root, "wrangler.toml"), toml);
  writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" "${join(root, "test", "node", "fake-wrangler.mjs")}" "$@"\n`);
  chmodSync(fake, 0o755);
  writeFileSync(calls, "");
  // An empty account, except one secret already set (its value lives only in the fake's state).
  writeFileSync(state, JSON.stringify({ secrets: { staging: { CLERK_JWT_KEY: SECRET_VALUE } } }));
});

describe("ops:provision (happy)", () => {
  it("on an empty account creates the D1 database, the bucket and both queues, and writes the D1 id", () => {
    const res = provision("--env", "staging");
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(creates()).toEqual([
      ["d1", "create", "babypic-staging"],
      ["r2", "bucket", "create", "babypic-staging"],
      ["r2", "bucket", "create", "babypic-staging-keys"],
      ["r2", "bucket", "create", "babypic-staging-backup"],
      ["queues", "create", "babypic-jobs-staging"],
      ["queues", "create", "babypic-jobs-staging-dlq"],
    ]);
    const uuid = (JSON.parse(readFileSync(state, "utf8")) as { d1: { name: string; uuid: string }[] }).d1[0]?.uuid;
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const written = readFileSync(toml, "utf8");
    expect(written).toContain(`database_name = "babypic-staging"\ndatabase_id = "${uuid}"`);
    // Production is untouched.
    expect(written).toContain(`database_name = "babypic-production"\ndatabase_id = "00000000-0000-4000-8000-000000000003"`);
  });

  it("lists the missing secrets by name, never a value, and never reads or writes one", () => {
    const res = provision("--env", "staging");
    expect(res.stdout).toContain("secrets still missing in staging: CLERK_SECRET_KEY CLERK_WEBHOOK_SECRET MASTER_KEYS URL_SIGNING_KEYS HPKE_KEYS AUDIT_SIGNING_KEYS LOOKUP_HMAC_KEY FAL_KEY FAL_ADMIN_KEY CREEM_API_KEY CREEM_WEBHOOK_SECRET");
    expect(res.stdout).not.toMatch(/missing in staging:.*CLERK_JWT_KEY/);
    expect(res.stdout).toContain("optional secrets not set: MAIL_API_KEY MAIL_FROM");
    expect(res.stdout + res.stderr).not.toContain(SECRET_VALUE);
    expect(invocations().filter((a) => a[0] === "secret").every((a) => a[1] === "list")).toBe(true);
  });

  it("run again, it finds everything and creates nothing; the file is unchanged", () => {
    const before = readFileSync(toml, "utf8");
    writeFileSync(calls, "");
    const res = provision("--env", "staging");
    expect(res.status).toBe(0);
    expect(creates()).toEqual([]);
    expect(res.stdout).toContain("D1 babypic-staging: exists");
    expect(res.stdout).toContain("queue babypic-jobs-staging-dlq: exists");
    expect(readFileSync(toml, "utf8")).toBe(before);
  });

  it("a Worker not deployed yet has every required secret missing", () => {
    const s = JSON.parse(readFileSync(state, "utf8")) as Record<string, unknown>;
    writeFileSync(state, JSON.stringify({ ...s, workerMissing: true }));
    const res = provision("--env", "staging");
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("secrets still missing in staging: CLERK_JWT_KEY ");
  });
});

describe("ops:provision (errors)", () => {
  it("needs --env staging or production", () => {
    for (const args of [[], ["--env", "development"], ["--nope"]]) {
      const res = provision(...args);
      expect(res.status).toBe(2);
      expect(res.stderr).toContain("--env staging|production");
    }
  });

  it("stops, naming the command, when wrangler cannot run", () => {
    const res = spawnSync(process.execPath, [join(root, "scripts", "provision.mjs"), "--env", "production"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, BABYPIC_WRANGLER: join(dir, "missing-wrangler"), BABYPIC_WRANGLER_TOML: toml, FAKE_WRANGLER_STATE: state, FAKE_WRANGLER_CALLS: calls },
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("wrangler d1 list --json failed");
  });
});

describe("deploy:dry-run value check", () => {
  it("names every empty or placeholder value of the committed configuration", async () => {
    const problems = deployProblems("production", await readEnvConfig("production", join(root, "wrangler.toml"))) as string[];
    expect(problems.join("\n")).toMatch(/D1 DB \(babypic-production\): database_id is a placeholder/);
    expect(problems.join("\n")).toMatch(/CREEM_PRODUCTS is empty/);
    expect(problems.join("\n")).toMatch(/CLERK_PUBLISHABLE_KEY is empty/);
  });

  it("passes once provisioned and filled in; a test key is refused in production", async () => {
    const filled = readFileSync(toml, "utf8")
      .replaceAll(`CREEM_PRODUCTS = '{}'`, `CREEM_PRODUCTS = '{"prod_1":{"credits":10,"name":"10 credits","price":"€4.99"}}'`)
      .replaceAll(`CLERK_PUBLISHABLE_KEY = ""`, `CLERK_PUBLISHABLE_KEY = "pk_test_${Buffer.from("example.clerk.accounts.dev$").toString("base64")}"`);
    writeFileSync(toml, filled);
    expect(deployProblems("staging", await readEnvConfig("staging", toml))).toEqual([]);
    const prod = deployProblems("production", await readEnvConfig("production", toml)) as string[];
    expect(prod).toContain("CLERK_PUBLISHABLE_KEY must be a pk_live_ key in production");
  });

  it("refuses a local development user as admin or engineer; the committed staging and production name none", async () => {
    for (const env of ["staging", "production"]) {
      const committed = deployProblems(env, await readEnvConfig(env, join(root, "wrangler.toml"))) as string[];
      expect(committed.join("\n")).not.toMatch(/local development user/);
    }
    const config = await readEnvConfig("production", join(root, "wrangler.toml"));
    const forged = { ...config, vars: { ...config.vars, ENGINEER_USER_IDS: "user_local_carol", ADMIN_USER_IDS: "user_2x, user_local_bob" } };
    const problems = deployProblems("production", forged) as string[];
    expect(problems).toContain("ENGINEER_USER_IDS names a local development user (user_local_…)");
    expect(problems).toContain("ADMIN_USER_IDS names a local development user (user_local_…)");
  });

  it("the script itself exits 1 on the committed placeholders (staging)", () => {
    const res = spawnSync(process.execPath, [join(root, "scripts", "dry-run.mjs"), "--env", "staging"], { cwd: root, encoding: "utf8" });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("[dry-run] FAIL staging: not ready to deploy");
    expect(res.stderr).toContain("database_id is a placeholder");
  });
});
