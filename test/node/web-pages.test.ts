/**
 * Pure parts of the SPA pages and of bench/web: link renewal timing, readable
 * activity entries, API key states, the checkout redirect guard, and how the
 * bench finds the JavaScript the landing page loads.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations.
import { BUDGET_BYTES, entryChunks, landingGraph, staticImports } from "../../bench/web/run.mjs";
import { actorLabel, describeUserAgent } from "../../web/src/features/activity/describe";
import { DEFAULT_SCOPES, keyState } from "../../web/src/features/api-keys/key-state";
import { safeCheckoutUrl } from "../../web/src/features/billing/checkout-url";
import { describeResemblance } from "../../web/src/features/gallery/labels";
import { LINK_REFRESH_MARGIN_MS, linkRefreshIn } from "../../web/src/features/gallery/link-timing";
import type { components } from "../../web/src/lib/api/schema";

type AuditEntry = components["schemas"]["AuditEntry"];
type ApiKey = components["schemas"]["ApiKey"];

const NOW = Date.parse("2026-11-27T06:00:00.000Z");

describe("SPA helpers (happy)", () => {
  it("renews signed links shortly before the earliest expires", () => {
    const soon = new Date(NOW + 30 * 60_000).toISOString();
    const later = new Date(NOW + 55 * 60_000).toISOString();
    expect(linkRefreshIn([later, soon, null], NOW)).toBe(30 * 60_000 - LINK_REFRESH_MARGIN_MS);
    expect(linkRefreshIn([], NOW)).toBe(false);
    expect(linkRefreshIn([null], NOW)).toBe(false);
  });

  it("describes browsers and programs in the activity log", () => {
    expect(describeUserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")).toBe("Chrome on Linux");
    expect(describeUserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1")).toBe(
      "Safari on iOS",
    );
    expect(describeUserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0")).toBe("Edge on Windows");
    expect(describeUserAgent("curl/8.5.0")).toBe("curl/8.5.0");
    expect(describeUserAgent(null)).toBeNull();
  });

  it("names who acted, and a link holder apart from the user", () => {
    const entry = (type: AuditEntry["actor"]["type"], id: string | null) => ({ actor: { type, id, reason: null } }) as AuditEntry;
    expect(actorLabel(entry("user", "usr_1"))).toBe("You");
    expect(actorLabel(entry("user", null))).toBe("Private link");
    expect(actorLabel(entry("support", "usr_staff"))).toBe("Support");
    expect(actorLabel(entry("api_key", "key_1"))).toBe("API key");
  });

  it("tells active, expired and revoked API keys apart", () => {
    const key = (over: Partial<ApiKey>): ApiKey => ({
      id: "key_1",
      name: "k",
      prefix: "bp_abc",
      scopes: ["account:read"],
      createdAt: new Date(NOW - 1000).toISOString(),
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      ...over,
    });
    expect(keyState(key({}), NOW)).toBe("active");
    expect(keyState(key({ expiresAt: new Date(NOW - 1).toISOString() }), NOW)).toBe("expired");
    expect(keyState(key({ revokedAt: new Date(NOW - 1).toISOString(), expiresAt: new Date(NOW - 1).toISOString() }), NOW)).toBe("revoked");
  });

  it("new API keys default to read-only scopes", () => {
    expect(DEFAULT_SCOPES.length).toBeGreaterThan(0);
    expect(DEFAULT_SCOPES.filter((s) => !s.endsWith(":read"))).toEqual([]);
  });

  it("words the resemblance option for people", () => {
    expect(describeResemblance(0.5)).toBe("Equally like both parents");
    expect(describeResemblance(0.7)).toBe("Looks more like the mother (70 %)");
    expect(describeResemblance(0.2)).toBe("Looks more like the father (80 %)");
  });
});

describe("SPA helpers (security)", () => {
  it("sends the browser only to an http(s) payment page", () => {
    expect(safeCheckoutUrl("https://checkout.creem.io/ch_1")).toBe("https://checkout.creem.io/ch_1");
    expect(() => safeCheckoutUrl("javascript:alert(1)")).toThrow();
    expect(() => safeCheckoutUrl("data:text/html,hi")).toThrow();
    expect(() => safeCheckoutUrl("not a url")).toThrow();
  });
});

describe("bench:web landing graph (happy)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-web-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds static imports and re-exports, not dynamic import()", () => {
    const code = 'import{a as b}from"./jsx-runtime-x.js";import"./side.js";export{c}from"./re.js";const l=()=>import("./Lazy-1.js");';
    expect(staticImports(code).sort()).toEqual(["./jsx-runtime-x.js", "./re.js", "./side.js"]);
  });

  it("follows index.html's entry and modulepreloads through the static graph, with gzip sizes", () => {
    mkdirSync(join(dir, "assets"));
    const html =
      '<script type="module" crossorigin src="/assets/index-1.js"></script><link rel="modulepreload" crossorigin href="/assets/vendor-1.js"><link rel="stylesheet" href="/assets/index.css">';
    writeFileSync(join(dir, "index.html"), html);
    writeFileSync(join(dir, "assets/index-1.js"), 'import{x}from"./shared-1.js";const p=()=>import("./Page-1.js");x(p);');
    writeFileSync(join(dir, "assets/vendor-1.js"), "export const v=1;");
    writeFileSync(join(dir, "assets/shared-1.js"), "export const x=(f)=>f;");
    writeFileSync(join(dir, "assets/Page-1.js"), "export default 1;".repeat(1000));
    expect(entryChunks(html)).toEqual(["assets/index-1.js", "assets/vendor-1.js"]);
    const graph = landingGraph(dir) as { file: string; gzip: number }[];
    expect(graph.map((c) => c.file).sort()).toEqual(["assets/index-1.js", "assets/shared-1.js", "assets/vendor-1.js"]);
    const shared = graph.find((c) => c.file === "assets/shared-1.js");
    expect(shared?.gzip).toBe(gzipSync(Buffer.from("export const x=(f)=>f;"), { level: 9 }).length);
    expect(BUDGET_BYTES).toBe(60 * 1024);
  });
});
