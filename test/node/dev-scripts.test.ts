/**
 * `npm run setup` and `npm run -s token`, run as processes against a scratch
 * .dev.vars (BABYPIC_DEV_VARS): the secrets have the shapes worker/env.ts
 * accepts, and a printed token passes the Worker's own verification path.
 */
import { verifyToken } from "@clerk/backend";
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../worker/env";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "babypic-dev-scripts-"));
const devVars = join(dir, ".dev.vars");
const env = { ...process.env, BABYPIC_DEV_VARS: devVars };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, ...args: string[]) {
  return spawnSync(process.execPath, [join(root, "scripts", script), ...args], { cwd: root, env, encoding: "utf8" });
}
const read = () => parseEnv(readFileSync(devVars, "utf8"));

describe("setup (happy)", () => {
  it("creates .dev.vars, readable by its owner only, with every secret the Worker needs", () => {
    const res = run("setup.mjs");
    expect(res.status).toBe(0);
    expect(statSync(devVars).mode & 0o777).toBe(0o600);
    const vars = read();
    const parsed = ConfigSchema.safeParse({
      ENVIRONMENT: "development",
      APP_ORIGIN: "http://127.0.0.1:5173",
      PUBLIC_API_URL: "http://127.0.0.1:8787",
      FAL_MODEL: "m",
      FAL_QUEUE_URL: "http://127.0.0.1:8788",
      FAL_JWKS_URL: "http://127.0.0.1:8788/.well-known/jwks.json",
      FREE_CREDITS: "5",
      GENERATION_COST: "1",
      SIGNED_URL_TTL_SECONDS: "3600",
      MAX_UPLOAD_BYTES: "15000000",
      CREEM_API_URL: "http://127.0.0.1:8789",
      CREEM_TEST_MODE: "true",
      CREEM_PRODUCTS: "{}",
      BACKUP_RETENTION_DAYS: "30",
      CONTROLLER_NAME: "Example Controller (development example)",
      CONTROLLER_ADDRESS: "1 Example Street (development example)",
      DPO_NAME: "Dana Example (development example)",
      DPO_EMAIL: "dpo@example.test",
      PRIVACY_EMAIL: "privacy@example.test",
      SECURITY_EMAIL: "security@example.test",
      ...vars,
    });
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(vars["CLERK_WEBHOOK_SECRET"]).toMatch(/^whsec_/);
    expect(vars["CREEM_WEBHOOK_SECRET"]).toBeTruthy();
  });

  it("is idempotent, and adds back only what is missing", () => {
    const before = readFileSync(devVars, "utf8");
    expect(run("setup.mjs").status).toBe(0);
    expect(readFileSync(devVars, "utf8")).toBe(before);

    const kept = read();
    writeFileSync(devVars, before.replace(/^URL_SIGNING_KEYS=.*\n/m, ""));
    const res = run("setup.mjs");
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("added to .dev.vars: URL_SIGNING_KEYS");
    const after = read();
    expect(after["URL_SIGNING_KEYS"]).toBeTruthy();
    expect(after["URL_SIGNING_KEYS"]).not.toBe(kept["URL_SIGNING_KEYS"]);
    expect(after["MASTER_KEYS"]).toBe(kept["MASTER_KEYS"]);
    expect(after["LOCAL_IDP_PRIVATE_KEY"]).toBe(kept["LOCAL_IDP_PRIVATE_KEY"]);
  });
});

describe("token (happy)", () => {
  // The token's azp is APP_ORIGIN from .dev.vars when set, else a running `npm start`'s origin (whatever its
  // ports: test/node/readme-quickstart.test.ts runs one meanwhile), else wrangler.toml's. Pinned here.
  beforeAll(() => appendFileSync(devVars, "APP_ORIGIN=http://127.0.0.1:5173\n"));

  it("prints a local session JWT that the Worker's verification accepts", async () => {
    const token = execFileSync(process.execPath, [join(root, "scripts", "token.mjs"), "alice"], { cwd: root, env, encoding: "utf8" }).trim();
    expect(token.split(".")).toHaveLength(3);
    const vars = read();
    const claims = await verifyToken(token, { jwtKey: vars["CLERK_JWT_KEY"], authorizedParties: ["http://127.0.0.1:5173"] });
    expect(claims.sub).toBe("user_local_alice");
    expect(claims.fva).toEqual([0, -1]);
  });

  it("--verified-minutes-ago N mints a token whose fva says the sign-in check is N minutes old", async () => {
    const token = run("token.mjs", "bob", "--verified-minutes-ago", "25").stdout.trim();
    const claims = await verifyToken(token, { jwtKey: read()["CLERK_JWT_KEY"], authorizedParties: ["http://127.0.0.1:5173"] });
    expect(claims.sub).toBe("user_local_bob");
    expect(claims.fva).toEqual([25, -1]);
    const bad = run("token.mjs", "bob", "--verified-minutes-ago", "ten");
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
  });
});

describe("setup and token (security)", () => {
  it("never prints a secret value", () => {
    rmSync(devVars);
    const res = run("setup.mjs");
    expect(res.status).toBe(0);
    const output = res.stdout + res.stderr;
    for (const value of Object.values(read())) {
      for (const line of (value ?? "").split("\n").filter((l) => l.length > 16)) expect(output).not.toContain(line);
    }
  });

  it("refuses an unknown user and prints no token", () => {
    const res = run("token.mjs", "mallory");
    expect(res.status).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain("unknown local user");
  });

  it("refuses without a local key", () => {
    writeFileSync(devVars, "MASTER_KEYS=x\n");
    const res = run("token.mjs", "alice");
    expect(res.status).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain("npm run setup");
  });
});
