/**
 * A production build of the SPA ships no source maps: no .map file a browser
 * (or anyone) could fetch from Pages, and no sourceMappingURL comment pointing
 * at one (web/vite.config.ts, docs/threat-model.md).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const outDir = mkdtempSync(join(tmpdir(), "babypic-web-build-"));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", join(ROOT, "web/vite.config.ts"), "--mode", "production", "--logLevel", "warn"], {
    cwd: ROOT,
    env: { ...process.env, BABYPIC_WEB_OUTDIR: outDir, VITE_CLERK_PUBLISHABLE_KEY: "", VITE_API_URL: "" },
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
}, 180_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("SPA production build (security)", () => {
  it("writes no source map files and no sourceMappingURL comments", () => {
    const files = filesUnder(outDir);
    const assets = files.filter((f) => /\.(js|mjs|css|html)$/.test(f));
    // The build really produced the app: scripts and styles to inspect.
    expect(assets.some((f) => f.endsWith(".js"))).toBe(true);
    expect(assets.some((f) => f.endsWith(".css"))).toBe(true);
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    const withComment = assets.filter((f) => /[#@]\s*sourceMappingURL=/.test(readFileSync(f, "utf8")));
    expect(withComment).toEqual([]);
  });
});
