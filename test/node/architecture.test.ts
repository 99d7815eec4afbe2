/**
 * The dependency rules of .dependency-cruiser.cjs (docs/architecture.md,
 * "Layers"; docs/decisions/0020-layers-and-one-logger.md) hold for the code
 * base, and they do catch what they are for: an import circle, a service that
 * reaches up into HTTP, and the SPA climbing out of web/ into the Worker.
 * `npm run deps` runs the same check; this test puts it on CI's `npm test` path.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const CLI = join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruiser.mjs");

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs dependency-cruiser with the project's rules in `cwd` over `paths`; returns the violations. */
function cruise(cwd: string, paths: string[]): Violation[] {
  // It exits with the number of errors found, so the status alone says nothing; the report does.
  const run = spawnSync(process.execPath, [CLI, "--config", join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "json", ...paths], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!run.stdout.startsWith("{")) throw new Error(`dependency-cruiser did not report: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const scratch = mkdtempSync(join(tmpdir(), "babypic-deps-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A throwaway tree with the project's tsconfig and the given files, cruised with the project's rules. */
function cruiseTree(name: string, files: Record<string, string>): Violation[] {
  const dir = join(scratch, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  copyFileSync(join(ROOT, "tsconfig.json"), join(dir, "tsconfig.json"));
  return cruise(dir, ["worker", "web"].filter((top) => Object.keys(files).some((path) => path.startsWith(`${top}/`))));
}

describe("architecture: dependency rules", () => {
  it("the code base breaks none of them (no circle, layers point down, the SPA imports shared code by name)", () => {
    const violations = cruise(ROOT, ["worker", "web/src", "web/headers.ts", "client", "scripts", "bench", "test"]);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it("a deliberately added circle fails, even one made of type imports", () => {
    const violations = cruiseTree("circle", {
      "worker/services/a.ts": 'import type { B } from "./b";\nexport type A = { b?: B };\n',
      "worker/services/b.ts": 'import type { A } from "./a";\nexport type B = { a?: A };\n',
    });
    expect(violations.map((v) => v.rule.name)).toContain("no-circular");
  });

  it("a service importing a route, middleware or the HTTP AppError fails, and the foundation importing a service fails", () => {
    const violations = cruiseTree("upward", {
      "worker/routes/things.ts": "export const route = 1;\n",
      "worker/errors.ts": "export class AppError extends Error {}\n",
      "worker/services/things.ts": 'import { route } from "../routes/things";\nexport const thing = route;\n',
      "worker/services/refusals.ts": 'import { AppError } from "../errors";\nexport const refuse = () => new AppError();\n',
      "worker/lib/helper.ts": 'import { thing } from "../services/things";\nexport const helper = thing;\n',
    });
    const names = violations.map((v) => `${v.rule.name}: ${v.from}`);
    expect(names).toContain("http-above-services: worker/services/things.ts");
    expect(names).toContain("services-throw-domain-errors: worker/services/refusals.ts");
    expect(names).toContain("services-above-adapters: worker/lib/helper.ts");
  });

  it("the SPA climbing out of web/ into the Worker fails", () => {
    const violations = cruiseTree("climb", {
      "worker/lib/privacy-facts.ts": "export const RETENTION = 1;\n",
      "web/src/routes/Page.tsx": 'import { RETENTION } from "../../../worker/lib/privacy-facts";\nexport const x = RETENTION;\n',
    });
    expect(violations.map((v) => v.rule.name)).toContain("spa-imports-shared-by-name");
  });
});
