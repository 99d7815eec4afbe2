/** The SPA's security headers (web/headers.ts, web/public/_headers). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  clerkFrontendApiFromKey,
  contentSecurityPolicy,
  parseHeadersFile,
  PRODUCTION_HEADERS_CONFIG,
  renderHeadersFile,
  renderRedirectsFile,
} from "../../web/headers.ts";

const committed = readFileSync(new URL("../../web/public/_headers", import.meta.url).pathname, "utf8");
const clerkKey = `pk_live_${btoa("clerk.babypic.app$")}`;

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(";").map((d) => {
      const [name = "", ...values] = d.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe("SPA headers (happy)", () => {
  it("web/public/_headers is exactly what web/headers.ts makes for production", () => {
    expect(committed).toBe(renderHeadersFile(PRODUCTION_HEADERS_CONFIG));
  });

  it("every path gets docs/architecture.md's headers, and hashed assets are cached immutably", () => {
    const rules = parseHeadersFile(committed);
    const forPath = (path: string) => new Map(rules.filter((r) => r.pattern.test(path)).flatMap((r) => r.headers));
    const page = forPath("/app");
    expect(page.get("Strict-Transport-Security")).toBe("max-age=63072000; includeSubDomains; preload");
    expect(page.get("Referrer-Policy")).toBe("no-referrer");
    expect(page.get("Permissions-Policy")).toMatch(/camera=\(\), microphone=\(\), geolocation=\(\)/);
    expect(page.get("Cross-Origin-Opener-Policy")).toBe("same-origin");
    expect(page.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
    expect(page.has("Cache-Control")).toBe(false);
    const asset = forPath("/assets/index-abc123.js");
    expect(asset.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(asset.get("Content-Security-Policy")).toBe(page.get("Content-Security-Policy"));
  });

  it("the CSP lets the SPA reach the API origin for data and images", () => {
    const csp = directives(contentSecurityPolicy({ apiOrigin: "https://api.babypic.app" }));
    expect(csp.get("connect-src")).toEqual(["'self'", "https://api.babypic.app"]);
    expect(csp.get("img-src")).toContain("https://api.babypic.app");
  });

  it("decodes Clerk's Frontend API host from a publishable key", () => {
    expect(clerkFrontendApiFromKey(clerkKey)).toBe("clerk.babypic.app");
    expect(clerkFrontendApiFromKey(undefined)).toBeUndefined();
  });
});

describe("SPA headers (security)", () => {
  it("without Clerk the CSP allows no third-party origin and nothing inline", () => {
    const csp = directives(contentSecurityPolicy(PRODUCTION_HEADERS_CONFIG));
    expect(csp.get("default-src")).toEqual(["'self'"]);
    // 'wasm-unsafe-eval' compiles WebAssembly only (the Create page's face check, decision 0017); no JavaScript eval.
    expect(csp.get("script-src")).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp.get("style-src")).toEqual(["'self'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
    expect(csp.get("base-uri")).toEqual(["'none'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(committed).not.toMatch(/unsafe-inline|'unsafe-eval'|clerk|\*\./);
  });

  it("Clerk's hosts appear only when a Clerk key is configured", () => {
    const withClerk = directives(contentSecurityPolicy({ ...PRODUCTION_HEADERS_CONFIG, clerkFrontendApi: clerkFrontendApiFromKey(clerkKey) }));
    expect(withClerk.get("script-src")).toContain("https://clerk.babypic.app");
    expect(withClerk.get("connect-src")).toContain("https://clerk.babypic.app");
    expect(withClerk.get("object-src")).toEqual(["'none'"]);
    expect(withClerk.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("rejects a malformed Clerk key instead of writing a broken CSP", () => {
    expect(() => clerkFrontendApiFromKey("sk_live_secret")).toThrow(/publishable key/);
    expect(() => clerkFrontendApiFromKey(`pk_test_${btoa("not a host; script-src *$")}`)).toThrow();
  });
});

describe("SPA _redirects (security.txt)", () => {
  it("with a separate API origin, the SPA's /.well-known/security.txt redirects to the Worker's", () => {
    expect(renderRedirectsFile("https://api.babypic.app").split("\n")[0]).toBe("/.well-known/security.txt https://api.babypic.app/.well-known/security.txt 302");
  });

  it("without one (same origin), no redirect is written", () => {
    expect(renderRedirectsFile(undefined)).not.toContain("security.txt");
  });
});

describe("SPA _redirects (the app's pages, decision 0021)", () => {
  it("sends every top-level route of web/src/routes/index.tsx to app.html, and never the landing page", async () => {
    const { readFileSync } = await import("node:fs");
    const { APP_PATHS, PUBLIC_PATHS } = await import("../../web/headers");
    const routes = readFileSync(`${process.cwd()}/web/src/routes/index.tsx`, "utf8");
    const matches = (path: string) =>
      APP_PATHS.some((p) => (p.endsWith("/*") ? path.startsWith(p.slice(0, -1)) || path === p.slice(0, -2) : path === p));
    const topLevel = [...String(routes).matchAll(/path: "([^"*]+)(\/\*)?"/g)].map((m) => `/${m[1]}`).filter((p) => !["/gallery", "/billing", "/api-keys", "/activity", "/account", "/create"].includes(p) && !p.startsWith("/gallery/") && !p.startsWith("/generations/") && !p.startsWith("/profile"));
    expect(topLevel.length).toBeGreaterThanOrEqual(10);
    // The prerendered public pages (decision 0025) are files of their own, never app.html.
    for (const p of topLevel) expect(matches(p.replace(/:[a-z]+/g, "x")) || (PUBLIC_PATHS as string[]).includes(p), `${p} is served the app or its own page`).toBe(true);
    for (const p of PUBLIC_PATHS) expect(matches(p), `${p} is its own page, not app.html`).toBe(false);
    const file = renderRedirectsFile(undefined);
    expect(file).toContain("/app/* /app.html 200");
    expect(file).not.toMatch(/^\/ |^\/\* /m);
  });
});
