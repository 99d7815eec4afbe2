/**
 * The local stack's log store (start.mjs keeps each service's last lines and
 * echoes them) never holds a signed URL's signature (issue 14 §5): a child
 * that prints wrangler-style request lines for a file link and an input link
 * leaves lines with the route but no signature.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { redactLine } from "../../scripts/lib/redact.mjs";
// @ts-expect-error: a plain ESM script without type declarations.
import { Service as UntypedService } from "../../scripts/start.mjs";

interface ServiceLike {
  tail: string[];
  exited: Promise<void>;
}
const Service = UntypedService as new (name: string, args: string[], opts: { echo: boolean }) => ServiceLike;

const dir = mkdtempSync(join(tmpdir(), "babypic-redact-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIG = "q8Zk3vX0mYpL2nR7tB5wC1dE9fG4hJ6kM8sN0aQ2uVw";
const FILE_LINK = `/v1/files/img_0123456789abcdef0123456789abcdef?exp=1900000000&kid=url-1&d=inline&sig=${SIG}`;
const INPUT_LINK = `/v1/generation-inputs/url-1.eyJ2IjoxLCJnIjoiZ2VuXzAxMjMifQ.${SIG}`;

describe("log redaction", () => {
  it("redactLine drops the signature of a file link and the token of an input link, keeping the route", () => {
    const file = redactLine(`[wrangler:info] GET ${FILE_LINK} 200 OK (12ms)`);
    expect(file).not.toContain(SIG);
    expect(file).toContain("/v1/files/img_0123456789abcdef0123456789abcdef?exp=1900000000&kid=url-1&d=inline&sig=[redacted]");
    const input = redactLine(`[wrangler:info] GET ${INPUT_LINK} 404 Not Found`);
    expect(input).not.toContain(SIG);
    expect(input).toContain("/v1/generation-inputs/[redacted] 404");
    expect(redactLine("GET /v1/me 200 OK")).toBe("GET /v1/me 200 OK");
  });

  it("a service's kept tail and its echo hold no signature", async () => {
    const script = join(dir, "child.mjs");
    writeFileSync(script, `console.log(${JSON.stringify(`GET ${FILE_LINK} 200 OK`)}); console.error(${JSON.stringify(`GET ${INPUT_LINK} 404`)});\n`);
    const echoed: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void echoed.push(args.join(" ")));
    try {
      const svc = new Service("child", [script], { echo: true });
      await svc.exited;
      await new Promise((r) => setTimeout(r, 50));
      expect(svc.tail.length).toBe(2);
      for (const line of [...svc.tail, ...echoed]) expect(line).not.toContain(SIG);
      expect(svc.tail.join("\n")).toContain("sig=[redacted]");
    } finally {
      spy.mockRestore();
    }
  });
});
