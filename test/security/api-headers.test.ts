/**
 * The API's own browser-facing headers (docs/architecture.md, Headers and browser):
 * CORS only for the SPA's origin, and the isolation headers on every answer,
 * errors included.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const API = "http://api.test";

describe("API headers: CORS", () => {
  it("answers a preflight from the SPA's origin", async () => {
    const res = await SELF.fetch(`${API}/v1/me`, {
      method: "OPTIONS",
      headers: { origin: env.APP_ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe(env.APP_ORIGIN);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });

  it.each(["https://evil.example", "http://app.test.evil.example", "null"])("gives no CORS grant to %s", async (origin) => {
    const pre = await SELF.fetch(`${API}/v1/me`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const get = await SELF.fetch(`${API}/v1/health`, { headers: { origin } });
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("API headers: isolation", () => {
  it.each([
    ["a success", "/v1/health", 200],
    ["an auth failure", "/v1/me", 401],
    ["an unknown route", "/v1/nope", 404],
  ])("%s carries the isolation headers", async (_name, path, status) => {
    const res = await SELF.fetch(`${API}${path}`);
    expect(res.status).toBe(status);
    const h = res.headers;
    expect(h.get("strict-transport-security")).toBe("max-age=63072000; includeSubDomains; preload");
    expect(h.get("referrer-policy")).toBe("no-referrer");
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(h.get("cross-origin-resource-policy")).toBe("same-site");
    expect(h.get("permissions-policy")).toMatch(/camera=\(\)/);
    expect(h.get("permissions-policy")).toMatch(/microphone=\(\)/);
    expect(h.get("permissions-policy")).toMatch(/geolocation=\(\)/);
    const csp = h.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"]) {
      expect(csp).toContain(directive);
    }
  });
});
