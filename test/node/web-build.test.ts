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

describe("SPA production build: prerendered public pages (decision 0025) (happy)", () => {
  it("writes each public page as HTML with its facts, the landing page's script and stylesheet, and no React", async () => {
    const { PUBLIC_PAGES, PUBLIC_PATHS } = await import("../../web/headers");
    const { RETENTION, SUB_PROCESSORS, TERMS_VERSION } = await import("../../worker/lib/privacy-facts");
    const landing = readFileSync(join(outDir, "index.html"), "utf8");
    const landingScript = /<script type="module"[^>]*src="([^"]+)"/.exec(landing)?.[1];
    expect(landingScript).toMatch(/^\/assets\/index-.+\.js$/);
    const app = readFileSync(join(outDir, "app.html"), "utf8");
    const appScript = /<script type="module"[^>]*src="([^"]+)"/.exec(app)?.[1] ?? "";
    for (const path of PUBLIC_PATHS) {
      const html = readFileSync(join(outDir, PUBLIC_PAGES[path].file), "utf8");
      expect(html, path).toContain(`<h1 tabindex="-1">${PUBLIC_PAGES[path].title}</h1>`);
      expect(html, path).toContain(`<title>${PUBLIC_PAGES[path].title} · BabyPic</title>`);
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.map(([, attrs]) => /src="([^"]+)"/.exec(attrs ?? "")?.[1]), `${path}: one script, the landing page's`).toEqual([landingScript]);
      expect(scripts.every(([, , body]) => (body ?? "").trim() === ""), `${path}: no inline script`).toBe(true);
      expect(html, `${path}: not the app's bundle`).not.toContain(appScript);
      expect(html, path).toMatch(/<link rel="stylesheet" href="\/assets\/index-[^"]+\.css" \/>/);
      // The header and footer are the app's Layout, links into the app included.
      expect(html, path).toContain('href="/app"');
      expect(html, path).toContain('href="/privacy"');
    }
    const security = readFileSync(join(outDir, "security.html"), "utf8");
    for (const p of SUB_PROCESSORS) expect(security).toContain(p.name);
    expect(security).toContain(`${RETENTION.databaseHistoryDays}-day history`);
    expect(readFileSync(join(outDir, "terms.html"), "utf8")).toContain(`<strong data-testid="terms-version">${TERMS_VERSION}</strong>`);
    expect(readFileSync(join(outDir, "privacy.html"), "utf8")).toContain('data-fact="controller.name"');
  });

  it("the static pages' script is small and pulls in no React (decision 0025)", () => {
    const landing = readFileSync(join(outDir, "index.html"), "utf8");
    const script = /<script type="module"[^>]*src="\/([^"]+)"/.exec(landing)?.[1] ?? "";
    const code = readFileSync(join(outDir, script), "utf8");
    const imported = [...code.matchAll(/from\s*"\.\/([^"]+)"|import\s*"\.\/([^"]+)"/g)].map((m) => readFileSync(join(outDir, "assets", m[1] ?? m[2] ?? ""), "utf8"));
    const all = [code, ...imported].join("\n");
    expect(all).not.toMatch(/react\.element|__SECRET_INTERNALS|createRoot|react-dom/i);
    expect(Buffer.byteLength(all)).toBeLessThan(6 * 1024);
  });
});
