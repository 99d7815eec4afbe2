/**
 * JSON bodies are capped before parsing (worker/middleware/body-limit.ts):
 * over MAX_JSON_BODY_BYTES is 413 `payload_too_large`, whether the size is
 * declared or the body streams without a Content-Length, and a streamed body
 * is not read far past the cap.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { MAX_JSON_BODY_BYTES } from "../../worker/middleware/body-limit";
import { API, expectProblem, tokenFor } from "../helpers";

/** A stream of `total` bytes of a JSON string, counting how much was pulled. */
function countingStream(total: number) {
  const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) {
        controller.enqueue(new TextEncoder().encode('{"name":"'));
        sent = 1;
        return;
      }
      if (sent >= total) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
  return { stream, pulled: () => sent };
}

describe("JSON body cap (security)", () => {
  it("a declared Content-Length over the cap is 413 before anything is read", async () => {
    const body = JSON.stringify({ name: "x".repeat(MAX_JSON_BODY_BYTES) });
    const res = await createApp().request(
      `${API}/v1/api-keys`,
      { method: "POST", headers: { authorization: `Bearer ${await tokenFor("alice")}`, "content-type": "application/json" }, body },
      env,
    );
    await expectProblem(res, 413, "payload_too_large");
  });

  it("a streamed body without Content-Length is cut off at the cap: 413, and 95 MB are never read", async () => {
    const { stream, pulled } = countingStream(95 * 1024 * 1024);
    const res = await createApp().request(
      `${API}/v1/generations`,
      { method: "POST", headers: { authorization: `Bearer ${await tokenFor("alice")}`, "content-type": "application/json", "idempotency-key": crypto.randomUUID() }, body: stream, duplex: "half" } as RequestInit,
      env,
    );
    await expectProblem(res, 413, "payload_too_large");
    expect(pulled()).toBeLessThan(MAX_JSON_BODY_BYTES + 64 * 1024);
  });

  it("a body under the cap reaches the route", async () => {
    const res = await createApp().request(
      `${API}/v1/api-keys`,
      { method: "POST", headers: { authorization: `Bearer ${await tokenFor("alice")}`, "content-type": "application/json" }, body: JSON.stringify({ name: "under the cap", scopes: ["account:read"] }) },
      env,
    );
    expect(res.status).toBe(201);
  });
});
