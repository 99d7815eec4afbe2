/**
 * The Worker's one logger (worker/lib/log.ts) redacts by construction: a
 * token, a signature, a signed URL, a key or an email address given to it, by
 * field name or inside any string, never reaches the line; and the Worker logs
 * through nothing else. The local stack's request lines use the same rules.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { errorText, log, logger, logLine } from "../../worker/lib/log";
import { redactLine } from "../../scripts/lib/redact.mjs";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const SIG = "q8Zk3vX0mYpL2nR7tB5wC1dE9fG4hJ6kM8sN0aQ2uVw";
const SIGNED = `https://api.example/v1/files/img_0123456789abcdef0123456789abcdef?exp=1900000000&kid=url-1&d=inline&sig=${SIG}`;
const JWT = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyXzEiLCJleHAiOjE5MDAwMDAwMDB9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY";
const API_KEY = `bp_${"Zk3vX0mYpL2nR7tB5wC1dE9fG4hJ6kM8sN0aQ2uVw".slice(0, 43)}`;
const KEY = "Qk9PUF9zZWNyZXRfa2V5X21hdGVyaWFsXzEyMzQ1Njc4OTA=";
const EMAIL = "alice.parent@example.com";

afterEach(() => vi.restoreAllMocks());

describe("logger: redaction by construction", () => {
  it("writes one JSON line with the level and the event", () => {
    expect(JSON.parse(logLine("warn", "photo.rejected", { reason: "too_small", requestId: "req_1", attempts: 2, final: false }))).toEqual({
      level: "warn",
      event: "photo.rejected",
      reason: "too_small",
      requestId: "req_1",
      attempts: 2,
      final: false,
    });
  });

  it("never prints a field named as a secret, whatever it holds", () => {
    const line = logLine("info", "x", { token: "harmless-looking", signature: "abc", sig: "abc", apiKey: "k", email: "e", authorization: "a", privateKey: "p", secret: "s" });
    const parsed = JSON.parse(line) as Record<string, unknown>;
    for (const name of ["token", "signature", "sig", "apiKey", "email", "authorization", "privateKey", "secret"]) expect(parsed[name]).toBe("[redacted]");
    expect(line).not.toContain("harmless-looking");
  });

  it("cuts a signed URL's query off, so no signature reaches the line", () => {
    const line = logLine("error", "files.stream_failed", { error: `fetch ${SIGNED} failed`, url: SIGNED });
    expect(line).not.toContain(SIG);
    expect(line).not.toContain("exp=1900000000");
    expect(line).toContain("/v1/files/img_0123456789abcdef0123456789abcdef?[query]");
  });

  it("masks emails, Bearer tokens, JWTs, API keys and key-like material inside any string, arrays included", () => {
    const err = new Error(`mail to ${EMAIL} refused; Authorization: Bearer ${JWT}; key ${API_KEY}; ring ${KEY}`);
    const line = logLine("error", "mail.failed", { error: errorText(err), problems: [`user ${EMAIL}`, `token ${JWT}`] });
    for (const secret of [EMAIL, JWT, JWT.split(".")[2] ?? JWT, API_KEY, KEY]) expect(line).not.toContain(secret);
    expect(line).toContain("[email]");
    expect(line).toContain("Bearer [redacted]");
    expect(line).toContain("bp_[redacted]");
  });

  it("logs an error by its name and message, never its stack", () => {
    const err = new TypeError("bad input");
    expect(errorText(err)).toBe("TypeError: bad input");
    expect(logLine("error", "x", { error: errorText(err) })).not.toContain("at ");
  });

  it("sends each level to its console method", () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    logger.info("a", { n: 1 });
    log("error", "b", { email: EMAIL });
    expect(info).toHaveBeenCalledWith('{"level":"info","event":"a","n":1}');
    expect(error).toHaveBeenCalledWith('{"level":"error","event":"b","email":"[redacted]"}');
  });

  it("takes no objects: a request, a row or bytes cannot be handed to it (a type error)", () => {
    // @ts-expect-error: an object is not a log value.
    const line = logLine("info", "x", { row: { email: EMAIL } });
    expect(typeof line).toBe("string");
  });

  it("is the only way the Worker writes to the console", () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|mjs)$/.test(name) && !path.endsWith(join("lib", "log.ts")) && /\bconsole\.\w+\(/.test(readFileSync(path, "utf8"))) offenders.push(path.slice(ROOT.length));
      }
    };
    walk(join(ROOT, "worker"));
    expect(offenders).toEqual([]);
  });

  it("the local stack's request lines use the same rules (signature, link token, email)", () => {
    const line = redactLine(`[wrangler:info] GET /v1/files/img_0?exp=1&sig=${SIG} 200 OK for ${EMAIL}`);
    expect(line).not.toContain(SIG);
    expect(line).not.toContain(EMAIL);
    expect(line).toContain("sig=[redacted]");
  });
});
