/**
 * `npm run deploy:dry-run` refuses a deployment that does not say who we are
 * (GDPR Art. 13(1)(a)-(b)): run as a process against a scratch copy of
 * wrangler.toml (BABYPIC_WRANGLER_CONFIG), production only.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WHO_WE_ARE_VARS } from "../../worker/lib/who-we-are";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "babypic-dry-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REAL: Record<string, string> = {
  CONTROLLER_NAME: "BabyPic Test GmbH",
  CONTROLLER_ADDRESS: "Hauptstrasse 1, 10115 Berlin, Germany",
  DPO_NAME: "Dana Schmidt",
  DPO_EMAIL: "dpo@babypic.test",
  PRIVACY_EMAIL: "privacy@babypic.test",
  SECURITY_EMAIL: "security@babypic.test",
};

/** wrangler.toml with the production who-we-are vars replaced; paths made absolute so the copy bundles from elsewhere. */
function configWith(values: Record<string, string>): string {
  let text = readFileSync(join(root, "wrangler.toml"), "utf8").replace(/^main = "worker\/index.ts"$/m, `main = "${join(root, "worker/index.ts")}"`);
  const at = text.indexOf("[env.production.vars]");
  let prod = text.slice(at);
  for (const name of WHO_WE_ARE_VARS) prod = prod.replace(new RegExp(`^${name} = ".*"$`, "m"), `${name} = ${JSON.stringify(values[name] ?? "")}`);
  text = text.slice(0, at) + prod;
  const file = join(dir, `wrangler-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, text);
  return file;
}

function dryRun(config: string) {
  return spawnSync(process.execPath, [join(root, "scripts", "dry-run.mjs")], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, BABYPIC_WRANGLER_CONFIG: config, BABYPIC_DRY_RUN_ENVS: "production" },
  });
}

describe("deploy dry run: who we are", () => {
  it("fails production when any controller, DPO or contact value is missing, naming it", () => {
    for (const name of ["CONTROLLER_ADDRESS", "DPO_EMAIL"]) {
      const res = dryRun(configWith({ ...REAL, [name]: "" }));
      expect(res.status, res.stderr).toBe(1);
      expect(res.stderr).toContain(`FAIL production: ${name} is missing`);
    }
  });

  it("fails production with the development example values", () => {
    const res = dryRun(configWith({ ...REAL, CONTROLLER_NAME: "Example Controller Ltd (development example)" }));
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("CONTROLLER_NAME is a development example");
  });

  it("passes the who-we-are check and bundles production once every value is set", () => {
    const res = dryRun(configWith(REAL));
    // Other deploy values of the scratch config (D1 ids, Creem products, Clerk key) are checked apart (test/node/provision.test.ts).
    expect(res.stderr).not.toMatch(/CONTROLLER_|DPO_|PRIVACY_EMAIL|SECURITY_EMAIL/);
    expect(res.stdout).toMatch(/\[dry-run\] ok {3}production \(/);
  }, 120_000);
});
