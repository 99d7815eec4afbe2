/**
 * The Clerk production build's CSP (issue 17, item 7): `npm run ops:build`
 * for staging with a Clerk publishable key writes dist/_headers whose CSP
 * allows exactly the hosts Clerk documents for that Frontend API
 * (clerk.com/docs/guides/secure/best-practices/csp-headers: the FAPI host in
 * script-src and connect-src, Cloudflare's bot protection
 * challenges.cloudflare.com in script-src and frame-src, Clerk's fraud
 * protection *.protect.clerk.com (connect-src with :*), img.clerk.com in
 * img-src, blob: workers, inline styles), plus our API, and no other host.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHeadersFile } from "../../web/headers.ts";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "babypic-clerk-build-"));
const out = join(dir, "dist");
const FAPI = "example.clerk.accounts.dev";
const KEY = `pk_test_${Buffer.from(`${FAPI}$`).toString("base64")}`;
const API = "https://api-staging.babypic.app";
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let csp = new Map<string, string[]>();
let build = { status: -1 as number | null, output: "" };

beforeAll(() => {
  // The staging configuration with the key filled in, as an operator would commit it.
  const toml = join(dir, "wrangler.toml");
  const committed = readFileSync(join(root, "wrangler.toml"), "utf8");
  writeFileSync(toml, committed.replace(`CLERK_PUBLISHABLE_KEY = ""`, `CLERK_PUBLISHABLE_KEY = "${KEY}"`));
  const r = spawnSync(process.execPath, [join(root, "scripts", "build-env.mjs"), "--env", "staging"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, BABYPIC_WRANGLER_TOML: toml, BABYPIC_WEB_OUTDIR: out },
  });
  build = { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  if (r.status !== 0) return;
  const rules = parseHeadersFile(readFileSync(join(out, "_headers"), "utf8"));
  const value = rules.find((rule) => rule.pattern.test("/app"))?.headers.find(([k]) => k === "Content-Security-Policy")?.[1] ?? "";
  csp = new Map(
    value.split(";").map((d) => {
      const [name = "", ...values] = d.trim().split(/\s+/);
      return [name, values];
    }),
  );
}, 600_000);

describe("Clerk production build: CSP", () => {
  it("builds with the staging key and API from wrangler.toml", () => {
    expect(build.output).not.toMatch(/CLERK_PUBLISHABLE_KEY .*is empty/);
    expect(build.status).toBe(0);
    // The key made it into the bundle (Clerk is really configured), the local sign-in did not.
    const assets = spawnSync("grep", ["-rl", KEY, out], { encoding: "utf8" }).stdout;
    expect(assets).toMatch(/assets\/.*\.js/);
  });

  it("each directive allows exactly what Clerk documents for this Frontend API, plus our API", () => {
    expect(csp.get("script-src")).toEqual(["'self'", "'wasm-unsafe-eval'", `https://${FAPI}`, "https://challenges.cloudflare.com", "https://*.protect.clerk.com"]);
    expect(csp.get("connect-src")).toEqual(["'self'", API, `https://${FAPI}`, "https://*.protect.clerk.com:*"]);
    expect(csp.get("img-src")).toEqual(["'self'", "blob:", API, "https://img.clerk.com"]);
    expect(csp.get("worker-src")).toEqual(["'self'", "blob:"]);
    expect(csp.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp.get("frame-src")).toEqual(["https://challenges.cloudflare.com", "https://*.protect.clerk.com"]);
  });

  it("no other host anywhere in the policy, and nothing that widens it", () => {
    const hosts = new Set([...csp.values()].flat().filter((v) => /^https?:/.test(v)));
    expect([...hosts].sort()).toEqual(
      [API, `https://${FAPI}`, "https://challenges.cloudflare.com", "https://*.protect.clerk.com", "https://*.protect.clerk.com:*", "https://img.clerk.com"].sort(),
    );
    const all = [...csp.values()].flat();
    expect(all).not.toContain("'unsafe-eval'");
    expect(all).not.toContain("*");
    expect(all).not.toContain("https:");
    expect(csp.get("script-src")).not.toContain("'unsafe-inline'");
    expect(csp.get("default-src")).toEqual(["'self'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
  });
});
