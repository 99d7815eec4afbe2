/**
 * /v1/webhook-endpoints: registration with the SSRF guard, management,
 * authorization, and the four events reaching a registered endpoint through
 * the real queue.
 */
import { env } from "cloudflare:test";
import { Webhook } from "svix";
import { describe, expect, it } from "vitest";
import { completeGeneration, endGeneration } from "../../worker/services/generation";
import { checkTarget } from "../../worker/services/webhooks/ssrf";
import { api, expectProblem, json, signIn } from "../helpers";
import { createDriven, drivenServices, parentsFor } from "../pipeline/fixtures";
import { fakeDns, fakeReceiver, type Received } from "./helpers";

const HOOK = "https://hooks.example.com/babypic";
const DNS = {
  "hooks.example.com": ["93.184.215.14"],
  "internal.example.com": ["10.1.2.3"],
  "mixed.example.com": ["93.184.215.14", "127.0.0.1"],
  "meta.example.com": ["169.254.169.254"],
  "ula.example.com": ["93.184.215.14", "fd00::1"],
  "mapped.example.com": ["::ffff:10.0.0.1"],
  "cgnat.example.com": ["100.64.0.1"],
};

async function register(user: string, url: string, events: string[] = ["generation.completed"]): Promise<Response> {
  return api("/v1/webhook-endpoints", { method: "POST", user, headers: { "content-type": "application/json" }, body: JSON.stringify({ url, events }) });
}

interface Created {
  id: string;
  secret: string;
  url: string;
  events: string[];
}

describe("webhook endpoints (security)", () => {
  it.each([
    ["http in a non-development environment", "http://hooks.example.com/x"],
    ["loopback literal", "https://127.0.0.1/x"],
    ["private literal", "https://192.168.1.10/x"],
    ["link-local literal (cloud metadata)", "https://169.254.169.254/latest"],
    ["CGNAT literal", "https://100.100.1.1/x"],
    ["multicast literal", "https://224.0.0.1/x"],
    ["reserved literal", "https://240.0.0.1/x"],
    ["IPv6 loopback", "https://[::1]/x"],
    ["IPv6 ULA", "https://[fd12:3456::1]/x"],
    ["IPv6 link-local", "https://[fe80::1]/x"],
    ["IPv4-mapped IPv6", "https://[::ffff:127.0.0.1]/x"],
    ["decimal-integer IPv4", "https://2130706433/x"],
    ["a name resolving to a private address", "https://internal.example.com/x"],
    ["a name with one loopback address among public ones", "https://mixed.example.com/x"],
    ["a name resolving to link-local", "https://meta.example.com/x"],
    ["a name with an IPv6 ULA address", "https://ula.example.com/x"],
    ["a name resolving to an IPv4-mapped IPv6 address", "https://mapped.example.com/x"],
    ["a name resolving to CGNAT", "https://cgnat.example.com/x"],
    ["a name that does not resolve", "https://nowhere.example.com/x"],
    ["credentials in the URL", "https://user:pw@hooks.example.com/x"],
  ])("refuses %s at registration", async (_what, url) => {
    fakeDns(DNS);
    const user = `wh-ssrf-${crypto.randomUUID().slice(0, 8)}`;
    await signIn(user);
    // The test Worker runs as development; http is checked as production would.
    const res = await register(user, url.startsWith("http://") ? url : url);
    if (url.startsWith("http://")) {
      expect(await checkTarget(url, "production")).toEqual({ ok: false, reason: "scheme" });
      expect((await checkTarget("http://127.0.0.1:9000/x", "production")).ok).toBe(false);
      expect((await checkTarget("http://127.0.0.1:9000/x", "development")).ok).toBe(true);
    }
    await expectProblem(res, 400, "webhook_url_refused");
    const list = await json<{ endpoints: unknown[] }>(await api("/v1/webhook-endpoints", { user }));
    expect(list.endpoints).toEqual([]);
  });

  it("another user's endpoint is 404 for every action; an API key cannot manage endpoints", async () => {
    fakeDns(DNS);
    await signIn("wh-owner");
    await signIn("wh-other");
    const created = await json<Created>(await register("wh-owner", HOOK));
    for (const [method, path] of [
      ["DELETE", ""],
      ["POST", "/rotate-secret"],
      ["POST", "/test"],
      ["GET", "/deliveries"],
    ] as const) {
      await expectProblem(await api(`/v1/webhook-endpoints/${created.id}${path}`, { method, user: "wh-other" }), 404, "not_found");
    }
    expect((await json<{ endpoints: unknown[] }>(await api("/v1/webhook-endpoints", { user: "wh-other" }))).endpoints).toEqual([]);
    const key = await json<{ secret: string }>(
      await api("/v1/api-keys", { method: "POST", user: "wh-owner", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "k", scopes: ["generations:read"] }) }),
    );
    await expectProblem(await api("/v1/webhook-endpoints", { token: key.secret }), 403, "insufficient_scope");
    expect((await api(`/v1/webhook-endpoints/${created.id}`, { method: "DELETE", user: "wh-owner" })).status).toBe(204);
  });
});

describe("webhook endpoints (happy)", () => {
  it("register, list without secret, test-send (verifiable), rotate, delivery log, delete", async () => {
    fakeDns(DNS);
    await signIn("wh-manage");
    const res = await register("wh-manage", HOOK, ["generation.completed", "export.ready"]);
    expect(res.status).toBe(201);
    const created = await json<Created>(res);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const list = await json<{ endpoints: Record<string, unknown>[] }>(await api("/v1/webhook-endpoints", { user: "wh-manage" }));
    expect(list.endpoints).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(created.secret);

    const received = fakeReceiver(HOOK);
    const test = await json<{ delivered: boolean; statusCode: number }>(await api(`/v1/webhook-endpoints/${created.id}/test`, { method: "POST", user: "wh-manage" }));
    expect(test).toEqual({ delivered: true, statusCode: 200, errorClass: null });
    const got = received[0];
    if (!got) throw new Error("nothing received");
    expect(new Webhook(created.secret).verify(got.body, got.headers)).toMatchObject({ type: "webhook.test" });

    const rotated = await json<Created & { previousSecretExpiresAt: string }>(await api(`/v1/webhook-endpoints/${created.id}/rotate-secret`, { method: "POST", user: "wh-manage" }));
    expect(rotated.secret).not.toBe(created.secret);
    expect(Date.parse(rotated.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);

    // A failing attempt shows in the log.
    fakeReceiver(HOOK, 503);
    const { s } = drivenServices();
    const { deliverWebhook } = await import("../../worker/services/webhooks/delivery");
    await deliverWebhook(s, { kind: "webhook.deliver", endpointId: created.id, eventId: "evt_1", type: "export.ready", timestamp: new Date().toISOString(), data: { exportId: "exp_1", status: "ready" }, attempt: 1 });
    const log = await json<{ deliveries: Record<string, unknown>[] }>(await api(`/v1/webhook-endpoints/${created.id}/deliveries`, { user: "wh-manage" }));
    expect(log.deliveries).toEqual([expect.objectContaining({ eventId: "evt_1", eventType: "export.ready", attempt: 1, statusCode: 503, errorClass: "http_status", final: false })]);

    expect((await api(`/v1/webhook-endpoints/${created.id}`, { method: "DELETE", user: "wh-manage" })).status).toBe(204);
    expect((await json<{ endpoints: unknown[] }>(await api("/v1/webhook-endpoints", { user: "wh-manage" }))).endpoints).toEqual([]);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?").bind(created.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it("validation: unknown event types and missing fields are 400 validation_failed", async () => {
    await signIn("wh-valid");
    await expectProblem(await register("wh-valid", HOOK, ["photo.uploaded"]), 400, "validation_failed");
    await expectProblem(await register("wh-valid", HOOK, []), 400, "validation_failed");
  });
});

async function until(received: Received[], type: string, tries = 200): Promise<Record<string, unknown>> {
  for (let i = 0; i < tries; i++) {
    const hit = received.find((r) => (JSON.parse(r.body) as { type: string }).type === type);
    if (hit) return JSON.parse(hit.body) as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${type} delivery`);
}

describe("webhook events", () => {
  it("generation.completed and generation.failed are emitted when a generation ends", async () => {
    fakeDns(DNS);
    const userId = await signIn("wh-gen");
    await register("wh-gen", HOOK, ["generation.completed", "generation.failed"]);
    const { s, sent } = drivenServices();
    const parents = await parentsFor(userId);
    const a = await createDriven(s, userId, parents);
    await env.DB.prepare("UPDATE generations SET status = 'submitted' WHERE id = ?").bind(a.id).run();
    await completeGeneration(s, a.id, 1);
    const b = await createDriven(s, userId, await parentsFor(userId));
    await endGeneration(s, b.id, "failed", "model_error");
    const events = sent.filter((m) => m.body.kind === "webhook.deliver").map((m) => m.body);
    expect(events).toEqual([
      expect.objectContaining({ type: "generation.completed", data: { generationId: a.id, status: "completed", outputs: 1 } }),
      expect.objectContaining({ type: "generation.failed", data: { generationId: b.id, status: "failed", errorCode: "model_error" } }),
    ]);
  });

  it("export.ready reaches the endpoint through the queue, signed", async () => {
    fakeDns(DNS);
    await signIn("wh-export");
    const created = await json<Created>(await register("wh-export", HOOK, ["export.ready"]));
    const received = fakeReceiver(HOOK);
    const exp = await json<{ id: string }>(await api("/v1/account/exports", { method: "POST", user: "wh-export" }));
    const body = await until(received, "export.ready");
    expect(body["data"]).toMatchObject({ exportId: exp.id, status: "ready" });
    const got = received.find((r) => r.body.includes("export.ready"));
    expect(() => new Webhook(created.secret).verify(got?.body ?? "", got?.headers ?? {})).not.toThrow();
  });

  it("account.deleted reaches the endpoint after the account and endpoint are gone, and leaves no row naming the user", async () => {
    fakeDns(DNS);
    const userId = await signIn("wh-delete");
    const created = await json<Created>(await register("wh-delete", HOOK, ["account.deleted"]));
    const received = fakeReceiver(HOOK);
    const res = await api("/v1/account", { method: "DELETE", user: "wh-delete", headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) });
    expect(res.status).toBe(200);
    const body = await until(received, "account.deleted");
    expect(body["data"]).toMatchObject({ status: "deleted" });
    expect(JSON.stringify(body)).not.toContain(userId);
    const got = received.find((r) => r.body.includes("account.deleted"));
    expect(() => new Webhook(created.secret).verify(got?.body ?? "", got?.headers ?? {})).not.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    for (const table of ["webhook_endpoints", "webhook_deliveries"]) {
      const n = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`).bind(userId).first<{ n: number }>();
      expect(n?.n).toBe(0);
    }
  });
});
