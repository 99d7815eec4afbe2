/**
 * Rate limits (issue 7): the Workers Rate Limiting bindings are replaced by
 * fakes so the refusal path is deterministic. Refused calls get 429
 * problem+json `rate_limited` with Retry-After, do nothing else, and are
 * counted per credential (user or API key) or per client IP.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { securityLog } from "../../worker/db/schema";
import type { Bindings } from "../../worker/env";
import { bindingRateLimiter, RATE_LIMIT_PERIOD_SECONDS } from "../../worker/middleware/rate-limit";
import { API, expectProblem, json, services, signIn, tokenFor } from "../helpers";
import { fakeRateLimit } from "../fake-rate-limit";
import { network } from "../network";
import { checkoutCompleted, hmacHex, PRODUCT, webhookSecret } from "./helpers";

function appWith(overrides: Partial<Pick<Bindings, "RL_WRITE" | "RL_READ" | "RL_IP">>) {
  const app = createApp();
  const bindings: Bindings = { ...env, ...overrides };
  return (path: string, init: RequestInit = {}) => app.request(`${API}${path}`, init, bindings);
}

let alice = "";
let creemCalls = 0;

beforeAll(async () => {
  alice = await signIn("alice");
});

function countCreemCalls() {
  network.use(
    http.post("https://test-api.creem.io/v1/checkouts", () => {
      creemCalls++;
      return HttpResponse.json({ id: `ch_rl_${creemCalls}`, checkout_url: `https://checkout.creem.io/ch_rl_${creemCalls}` });
    }),
  );
}

async function checkoutWith(fetcher: ReturnType<typeof appWith>, bearer: string) {
  return fetcher("/v1/billing/checkout", {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify({ productId: PRODUCT }),
  });
}

describe("rate limits: per credential", () => {
  it("checkout over the write limit: 429 rate_limited with Retry-After, Creem not called, security log entry", async () => {
    countCreemCalls();
    const write = fakeRateLimit(2);
    const fetcher = appWith({ RL_WRITE: write.binding });
    const token = await tokenFor("alice");
    expect((await checkoutWith(fetcher, token)).status).toBe(201);
    expect((await checkoutWith(fetcher, token)).status).toBe(201);
    const callsBefore = creemCalls;
    const refused = await checkoutWith(fetcher, token);
    await expectProblem(refused, 429, "rate_limited");
    expect(refused.headers.get("retry-after")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
    expect(creemCalls).toBe(callsBefore);
    expect(write.keys).toEqual([`write:user:${alice}`, `write:user:${alice}`, `write:user:${alice}`]);
    const logged = await services().db.select().from(securityLog).where(eq(securityLog.kind, "rate_limited")).all();
    expect(logged.some((r) => r.userId === alice && (r.detail ?? "").includes("write"))).toBe(true);
  });

  it("an API key has its own bucket; another user is unaffected", async () => {
    countCreemCalls();
    const write = fakeRateLimit(1);
    const fetcher = appWith({ RL_WRITE: write.binding });
    const created = await fetcher("/v1/api-keys", {
      method: "POST",
      headers: { authorization: `Bearer ${await tokenFor("alice")}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "rl", scopes: ["billing:write"] }),
    });
    expect(created.status).toBe(201);
    const key = await json<{ id: string; secret: string }>(created);
    // The session's one allowed write went to creating the key.
    await expectProblem(await checkoutWith(fetcher, await tokenFor("alice")), 429, "rate_limited");
    expect((await checkoutWith(fetcher, key.secret)).status).toBe(201);
    await expectProblem(await checkoutWith(fetcher, key.secret), 429, "rate_limited");
    expect((await checkoutWith(fetcher, await tokenFor("bob"))).status).toBe(201);
    expect(write.keys).toContain(`write:key:${key.id}`);
  });

  it("reads use the read limiter", async () => {
    const read = fakeRateLimit(0);
    const fetcher = appWith({ RL_READ: read.binding });
    const res = await fetcher("/v1/billing/ledger", { headers: { authorization: `Bearer ${await tokenFor("alice")}` } });
    await expectProblem(res, 429, "rate_limited");
    expect(read.keys).toEqual([`read:user:${alice}`]);
  });

  it("authentication runs first: an unauthenticated caller is 401 and consumes no one's budget", async () => {
    const write = fakeRateLimit(0);
    const fetcher = appWith({ RL_WRITE: write.binding });
    const res = await fetcher("/v1/billing/checkout", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await expectProblem(res, 401, "unauthorized");
    expect(write.keys).toEqual([]);
  });
});

describe("rate limits: per IP", () => {
  it("the Creem webhook is limited per client IP before any verification", async () => {
    const ip = fakeRateLimit(1);
    const fetcher = appWith({ RL_IP: ip.binding });
    const body = JSON.stringify(checkoutCompleted({ eventId: "evt_rl", checkoutId: "ch_rl_ip", userId: alice }));
    const signature = await hmacHex(webhookSecret(), body);
    const post = (addr: string) =>
      fetcher("/v1/webhooks/creem", { method: "POST", headers: { "content-type": "application/json", "creem-signature": signature, "cf-connecting-ip": addr }, body });
    expect((await post("203.0.113.9")).status).toBe(200);
    const refused = await post("203.0.113.9");
    await expectProblem(refused, 429, "rate_limited");
    expect(refused.headers.get("retry-after")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
    // Another address has its own budget (and the event is already applied).
    expect(await json(await post("198.51.100.4"))).toEqual({ received: true, outcome: "duplicate" });
    expect(ip.keys).toEqual(["ip:203.0.113.9", "ip:203.0.113.9", "ip:198.51.100.4"]);
  });

  it("unauthenticated public routes (packs, health, openapi.json, docs) are limited per IP", async () => {
    for (const path of ["/v1/billing/packs", "/v1/health", "/v1/openapi.json", "/v1/docs"]) {
      const ip = fakeRateLimit(0);
      const res = await appWith({ RL_IP: ip.binding })(path, { headers: { "cf-connecting-ip": "192.0.2.1" } });
      await expectProblem(res, 429, "rate_limited");
      expect(ip.keys).toEqual(["ip:192.0.2.1"]);
    }
  });
});

describe("rate limits: the binding adapter", () => {
  it("passes the key through and reports the window as Retry-After", async () => {
    const seen: string[] = [];
    const limiter = bindingRateLimiter({
      RL_WRITE: { limit: async ({ key }) => (seen.push(`w:${key}`), { success: true }) },
      RL_READ: { limit: async ({ key }) => (seen.push(`r:${key}`), { success: false }) },
      RL_IP: { limit: async ({ key }) => (seen.push(`i:${key}`), { success: true }) },
    });
    expect(await limiter.limit("write", "a")).toEqual({ success: true, retryAfter: RATE_LIMIT_PERIOD_SECONDS });
    expect(await limiter.limit("read", "b")).toEqual({ success: false, retryAfter: RATE_LIMIT_PERIOD_SECONDS });
    expect(await limiter.limit("ip", "c")).toEqual({ success: true, retryAfter: RATE_LIMIT_PERIOD_SECONDS });
    expect(seen).toEqual(["w:a", "r:b", "i:c"]);
  });
});

describe("rate limits: counted once per request", () => {
  it("a public route that also declares rateLimit(\"ip\") costs one unit, not two", async () => {
    const ip = fakeRateLimit(100);
    await appWith({ RL_IP: ip.binding })("/v1/keys/upload", { headers: { "cf-connecting-ip": "192.0.2.7" } });
    expect(ip.keys).toEqual(["ip:192.0.2.7"]);
  });
});
