/**
 * Outgoing webhook delivery: Standard Webhooks signatures that svix's
 * Webhook.verify accepts, rotation overlap, retries with backoff through the
 * queue's delaySeconds, giving up, the delivery log, and the SSRF guard again
 * at delivery time.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { Webhook } from "svix";
import { describe, expect, it } from "vitest";
import { webhookDeliveries, webhookEndpoints } from "../../worker/db/schema";
import { deliverWebhook, MAX_ATTEMPTS, RETRY_DELAYS_S, type DeliverMessage } from "../../worker/services/webhooks/delivery";
import { createEndpoint, rotateSecret } from "../../worker/services/webhooks/endpoints";
import { signIn } from "../helpers";
import { network } from "../network";
import { drivenServices } from "../pipeline/fixtures";
import { fakeDns, fakeReceiver } from "./helpers";

const HOOK = "https://hooks.example.com/babypic";
const PUBLIC_IP = "93.184.215.14";

function message(endpointId: string, attempt = 1): DeliverMessage {
  return {
    kind: "webhook.deliver",
    endpointId,
    eventId: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
    type: "generation.completed",
    timestamp: new Date().toISOString(),
    data: { generationId: "gen_0123456789abcdef0123456789abcdef", status: "completed", outputs: 1 },
    attempt,
  };
}

async function setup(user: string, url = HOOK) {
  const userId = await signIn(user);
  const { s, sent } = drivenServices();
  fakeDns({ "hooks.example.com": [PUBLIC_IP, "2606:4700::6810:84e5"] });
  const created = await createEndpoint(s, userId, { url, events: ["generation.completed"] });
  if (!created.ok) throw new Error("endpoint not created");
  return { s, sent, userId, endpoint: created.row, secret: created.secret };
}

async function log(endpointId: string) {
  return (await env.DB.prepare("SELECT attempt, status_code, error_class, final FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY attempt").bind(endpointId).all()).results;
}

describe("webhook delivery (happy)", () => {
  it("signs per Standard Webhooks: svix's Webhook.verify accepts the delivery, and the body is the event", async () => {
    const { s, endpoint, secret } = await setup("wh-sign");
    const received = fakeReceiver(HOOK);
    const msg = message(endpoint.id);
    expect((await deliverWebhook(s, msg))?.ok).toBe(true);
    expect(received).toHaveLength(1);
    const got = received[0];
    if (!got) throw new Error("nothing received");
    expect(got.headers["webhook-id"]).toBe(msg.eventId);
    expect(got.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    const verified = new Webhook(secret).verify(got.body, got.headers) as Record<string, unknown>;
    expect(verified).toEqual({ type: msg.type, timestamp: msg.timestamp, data: msg.data });
    // A wrong secret or a tampered body fails.
    expect(() => new Webhook(`whsec_${btoa("x".repeat(32))}`).verify(got.body, got.headers)).toThrow();
    expect(() => new Webhook(secret).verify(got.body.replace("completed", "failed"), got.headers)).toThrow();
    expect(await log(endpoint.id)).toEqual([{ attempt: 1, status_code: 200, error_class: null, final: 1 }]);
  });

  it("after rotation both secrets verify during the overlap; once it ends only the new one does", async () => {
    const { s, endpoint, secret: oldSecret } = await setup("wh-rotate");
    const { secret: newSecret } = await rotateSecret(s, endpoint);
    const received = fakeReceiver(HOOK);
    await deliverWebhook(s, message(endpoint.id));
    const during = received[0];
    if (!during) throw new Error("nothing received");
    expect(during.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(during.body, during.headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(during.body, during.headers)).not.toThrow();

    // The 24 h overlap has passed.
    await s.db.update(webhookEndpoints).set({ previousExpiresAt: s.now() - 1 }).where(eq(webhookEndpoints.id, endpoint.id));
    await deliverWebhook(s, message(endpoint.id));
    const after = received[1];
    if (!after) throw new Error("nothing received");
    expect(after.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(after.body, after.headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(after.body, after.headers)).toThrow();
  });

  it("the secret is stored sealed, never as the whsec_ value", async () => {
    const { endpoint, secret } = await setup("wh-sealed");
    const row = await env.DB.prepare("SELECT * FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(secret.slice("whsec_".length));
    expect(String(row?.["secret"])).toMatch(/^[A-Za-z0-9._-]+\.[A-Za-z0-9+/=]+$/);
  });
});

describe("webhook delivery (errors)", () => {
  it("a 500 is retried with growing delays through the queue, each attempt logged, and the last attempt gives up", async () => {
    const { s, sent, endpoint } = await setup("wh-retry");
    fakeReceiver(HOOK, 500);
    let msg = message(endpoint.id);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      expect((await deliverWebhook(s, msg))?.errorClass).toBe("http_status");
      if (attempt < MAX_ATTEMPTS) {
        const next = sent.at(-1);
        expect(next?.delaySeconds).toBe(RETRY_DELAYS_S[attempt - 1]);
        expect(next?.body).toMatchObject({ kind: "webhook.deliver", eventId: msg.eventId, attempt: attempt + 1 });
        msg = next?.body as DeliverMessage;
      }
    }
    expect(sent).toHaveLength(MAX_ATTEMPTS - 1);
    expect(MAX_ATTEMPTS).toBe(8);
    expect(RETRY_DELAYS_S.reduce((a, b) => a + b, 0)).toBeGreaterThan(12 * 3600);
    expect(Math.max(...RETRY_DELAYS_S)).toBeLessThanOrEqual(43_200); // Queues' delay limit
    const rows = await log(endpoint.id);
    expect(rows).toHaveLength(MAX_ATTEMPTS);
    expect(rows.map((r) => r["final"])).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(rows.every((r) => r["status_code"] === 500 && r["error_class"] === "http_status")).toBe(true);
  });

  it("a receiver that does not answer in time is a timeout, retried", async () => {
    const { s, sent, endpoint } = await setup("wh-timeout");
    network.use(http.post(HOOK, async () => new Promise<Response>((resolve) => setTimeout(() => resolve(new HttpResponse(null, { status: 200 })), 2000))));
    expect((await deliverWebhook(s, message(endpoint.id), { timeoutMs: 100 }))?.errorClass).toBe("timeout");
    expect(sent).toHaveLength(1);
    expect(await log(endpoint.id)).toEqual([{ attempt: 1, status_code: null, error_class: "timeout", final: 0 }]);
  });

  it("a redirect is a failure and is not followed", async () => {
    const { s, endpoint } = await setup("wh-redirect");
    const followed: string[] = [];
    network.use(
      http.post(HOOK, () => new HttpResponse(null, { status: 307, headers: { location: "http://169.254.169.254/latest/meta-data" } })),
      http.all("http://169.254.169.254/*", ({ request }) => {
        followed.push(request.url);
        return new HttpResponse("secret", { status: 200 });
      }),
    );
    const result = await deliverWebhook(s, message(endpoint.id));
    expect(result).toEqual({ ok: false, statusCode: 307, errorClass: "redirect" });
    expect(followed).toEqual([]);
  });

  it("an endless answer body is not read past the cap", async () => {
    const { s, endpoint } = await setup("wh-cap");
    network.use(
      http.post(HOOK, () => {
        const chunk = new Uint8Array(16 * 1024);
        const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(chunk) });
        return new HttpResponse(stream, { status: 200 });
      }),
    );
    expect((await deliverWebhook(s, message(endpoint.id)))?.ok).toBe(true);
  });

  it("a name that now resolves to a private address is refused at delivery (DNS changed since registration) and nothing is sent", async () => {
    const { s, endpoint } = await setup("wh-rebind");
    const received = fakeReceiver(HOOK);
    fakeDns({ "hooks.example.com": ["10.0.0.7"] });
    expect((await deliverWebhook(s, message(endpoint.id)))?.errorClass).toBe("refused_target");
    expect(received).toHaveLength(0);
  });

  it("the payload carries ids and status only: no signed URL, email or image", async () => {
    const { s, endpoint } = await setup("wh-payload");
    const received = fakeReceiver(HOOK);
    await deliverWebhook(s, message(endpoint.id));
    const body = JSON.parse(received[0]?.body ?? "{}") as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["data", "timestamp", "type"]);
    const text = received[0]?.body ?? "";
    expect(text).not.toMatch(/@|https?:|base64|sig=|exp=/);
  });

  it("a delivery for an endpoint deleted meanwhile sends nothing and logs nothing", async () => {
    const { s, sent, endpoint } = await setup("wh-gone");
    const received = fakeReceiver(HOOK);
    await s.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    expect(await deliverWebhook(s, message(endpoint.id))).toBeNull();
    expect(received).toHaveLength(0);
    expect(sent).toHaveLength(0);
    expect(await s.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id)).all()).toEqual([]);
  });
});
