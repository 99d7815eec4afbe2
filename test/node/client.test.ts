/**
 * The client library (client/index.ts) against a scripted fetch: retries on
 * 429/503 after Retry-After and only then, one Idempotency-Key for every try
 * of one generation, the token on every request, and problems surfaced as
 * BabyPicError. The whole flow against a running app is in
 * integrator-flow.test.ts (through the CLI).
 */
import { describe, expect, it } from "vitest";
import { BabyPicError, createBabyPicClient } from "../../client/index.ts";

type Step = Response | Error;

function scripted(steps: Step[]) {
  const seen: Request[] = [];
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input);
    seen.push(request);
    const step = steps.shift();
    if (!step) throw new Error("no more scripted answers");
    if (step instanceof Error) throw step;
    return step;
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(
    JSON.stringify({ type: "about:blank", status, code, title: `title ${code}`, detail: `detail ${code}`, requestId: "req_1" }),
    {
      status,
      headers: { "content-type": "application/problem+json", ...headers },
    },
  );

const generation = (status: string) => ({
  id: "gen_1",
  status,
  stage: status,
  progress: { percent: status === "completed" ? 100 : 10, stage: status, queuePosition: null, elapsedSeconds: 1 },
  error: null,
  outputs: [],
});

const input = { motherPhotoId: "pho_a", fatherPhotoId: "pho_b", gender: "girl", ageGroup: "newborn", resemblance: 0.5, images: 1 } as const;

describe("client library (happy)", () => {
  it("retries 429 and 503 after Retry-After, with the token each time, then returns the data", async () => {
    const waits: number[] = [];
    const { fetch, seen } = scripted([
      problem(429, "rate_limited", { "retry-after": "2" }),
      problem(503, "unavailable", { "retry-after": "1" }),
      Response.json({ id: "usr_1" }),
    ]);
    const client = createBabyPicClient({ baseUrl: "http://api.test/", token: "bp_key", fetch, sleep: async (ms) => void waits.push(ms) });
    expect(await client.me()).toEqual({ id: "usr_1" });
    expect(waits).toEqual([2000, 1000]);
    expect(seen.map((r) => [r.url, r.headers.get("authorization")])).toEqual(Array(3).fill(["http://api.test/v1/me", "Bearer bp_key"]));
  });

  it("sends one Idempotency-Key for every try of one generation, and the same body", async () => {
    const { fetch, seen } = scripted([
      new TypeError("fetch failed"),
      problem(503, "unavailable", { "retry-after": "0" }),
      Response.json(generation("queued"), { status: 202 }),
    ]);
    const client = createBabyPicClient({ baseUrl: "http://api.test", token: "t", fetch, sleep: async () => {} });
    expect((await client.createGeneration(input)).status).toBe("queued");
    const keys = seen.map((r) => r.headers.get("idempotency-key"));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    for (const r of seen) expect(await r.json()).toEqual(input);
  });

  it("waits for a final status and reports progress", async () => {
    const { fetch } = scripted([
      Response.json(generation("queued")),
      Response.json(generation("submitted")),
      Response.json(generation("completed")),
    ]);
    const client = createBabyPicClient({ baseUrl: "http://api.test", token: "t", fetch, sleep: async () => {} });
    const stages: string[] = [];
    expect((await client.waitForGeneration("gen_1", { onProgress: (g) => stages.push(g.status) })).status).toBe("completed");
    expect(stages).toEqual(["queued", "submitted", "completed"]);
  });
});

describe("client library (error)", () => {
  it("surfaces a problem as BabyPicError with its code, title, detail and request id; 4xx are not retried", async () => {
    const { fetch, seen } = scripted([problem(402, "insufficient_credits")]);
    const client = createBabyPicClient({ baseUrl: "http://api.test", token: "t", fetch, sleep: async () => {} });
    const err = await client.createGeneration(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BabyPicError);
    expect(err).toMatchObject({
      status: 402,
      code: "insufficient_credits",
      message: "title insufficient_credits: detail insufficient_credits",
    });
    expect((err as BabyPicError).problem?.requestId).toBe("req_1");
    expect(seen).toHaveLength(1);
  });

  it("gives up after the configured attempts and returns the last refusal", async () => {
    const { fetch, seen } = scripted([problem(429, "rate_limited"), problem(429, "rate_limited")]);
    const client = createBabyPicClient({ baseUrl: "http://api.test", token: "t", fetch, attempts: 2, sleep: async () => {} });
    await expect(client.me()).rejects.toMatchObject({ status: 429, code: "rate_limited" });
    expect(seen).toHaveLength(2);
  });
});
