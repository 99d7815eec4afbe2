/**
 * The deploy dry run's secret check (scripts/lib/required-secrets.mjs):
 * production and staging need the admin-scoped FAL_ADMIN_KEY besides FAL_KEY,
 * the same list worker/env.ts enforces at startup; names come from
 * `wrangler secret list --format json`, values are never read.
 */
import { describe, expect, it } from "vitest";
import { PRODUCTION_SECRETS } from "../../worker/env";
// @ts-expect-error: a plain ESM script without type declarations.
import { listSecretNames, missingSecrets, REQUIRED_SECRETS } from "../../scripts/lib/required-secrets.mjs";

const all = (env: string): string[] => (REQUIRED_SECRETS as Record<string, string[]>)[env] ?? [];

describe("required secrets", () => {
  it("production and staging need FAL_ADMIN_KEY, and every secret the Worker's own check requires", () => {
    for (const env of ["staging", "production"]) {
      expect(all(env)).toContain("FAL_ADMIN_KEY");
      for (const name of PRODUCTION_SECRETS) expect(all(env)).toContain(name);
    }
  });

  it("names what is missing, e.g. a deployment with only the model key", () => {
    const present = all("production").filter((n) => n !== "FAL_ADMIN_KEY");
    expect(missingSecrets("production", present)).toEqual(["FAL_ADMIN_KEY"]);
    expect(missingSecrets("production", all("production"))).toEqual([]);
  });

  it("reads names from wrangler's JSON listing; an error means unknown, not fine", () => {
    const listing = JSON.stringify([
      { name: "FAL_KEY", type: "secret_text" },
      { name: "FAL_ADMIN_KEY", type: "secret_text" },
    ]);
    const ok = listSecretNames("production", { wrangler: "w.js", cwd: ".", run: () => ({ status: 0, stdout: listing }) });
    expect(ok).toEqual(["FAL_KEY", "FAL_ADMIN_KEY"]);
    expect(listSecretNames("production", { wrangler: "w.js", cwd: ".", run: () => ({ status: 1, stdout: "" }) })).toBeNull();
    expect(listSecretNames("production", { wrangler: "w.js", cwd: ".", run: () => ({ status: 0, stdout: "not json" }) })).toBeNull();
  });
});
