/**
 * `npm run ops:zone-check` (issue 17, item 6) against a fake Cloudflare API on
 * loopback that answers GET /zones/{zone_id}/settings/min_tls_version with
 * Cloudflare's envelope ({success, errors, messages, result:{id, value,
 * editable, modified_on}}): it passes only at 1.3 and never prints the token.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
const TOKEN = "cf-token-that-must-not-be-printed-42";

let answer: { status: number; body: unknown } = { status: 200, body: {} };
const seen: { url: string; auth: string | undefined; method: string }[] = [];
let server: Server;
let base = "";

const setting = (value: string) => ({
  status: 200,
  body: { success: true, errors: [], messages: [], result: { id: "min_tls_version", value, editable: true, modified_on: "2026-12-01T10:00:00.000000Z" } },
});

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url ?? "", auth: req.headers.authorization, method: req.method ?? "" });
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function check(args: string[] = ["--zone", ZONE], env: Record<string, string | undefined> = {}) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [join(root, "scripts", "zone-check.mjs"), ...args], {
      cwd: root,
      env: { ...process.env, CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_API_BASE_URL: base, CLOUDFLARE_ZONE_ID: "", ...env },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += String(d)));
    child.stderr.on("data", (d) => (out += String(d)));
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("ops:zone-check", () => {
  it("passes at 1.3, having asked for the zone's setting with the bearer token", async () => {
    answer = setting("1.3");
    seen.length = 0;
    const r = await check();
    expect(r.code).toBe(0);
    expect(r.out).toContain("accepts TLS 1.3 only");
    expect(seen).toEqual([{ url: `/client/v4/zones/${ZONE}/settings/min_tls_version`, auth: `Bearer ${TOKEN}`, method: "GET" }]);
    expect(r.out).not.toContain(TOKEN);
  });

  it("fails below 1.3 and says how to set it", async () => {
    for (const v of ["1.0", "1.1", "1.2"]) {
      answer = setting(v);
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.out).toContain(`minimum TLS version is ${v}; required 1.3`);
      expect(r.out).toContain(`"value":"1.3"`);
      expect(r.out).not.toContain(TOKEN);
    }
  });

  it("fails on Cloudflare's error envelope, naming its codes", async () => {
    answer = { status: 403, body: { success: false, errors: [{ code: 9109, message: "Unauthorized to access requested resource" }], messages: [], result: null } };
    const r = await check();
    expect(r.code).toBe(1);
    expect(r.out).toContain("HTTP 403): 9109: Unauthorized to access requested resource");
  });

  it("fails on an answer that is not the setting, or not JSON", async () => {
    answer = { status: 200, body: { success: true, errors: [], messages: [], result: { id: "ssl", value: "strict" } } };
    expect((await check()).code).toBe(1);
    answer = { status: 200, body: "<html>" };
    expect((await check()).out).toContain("without JSON");
  });

  it("needs a zone id and a token; CLOUDFLARE_ZONE_ID works too", async () => {
    expect((await check([])).code).toBe(2);
    expect((await check(["--zone", "example.com"])).code).toBe(2);
    expect((await check(undefined, { CLOUDFLARE_API_TOKEN: "" })).code).toBe(2);
    answer = setting("1.3");
    expect((await check([], { CLOUDFLARE_ZONE_ID: ZONE })).code).toBe(0);
  });
});
