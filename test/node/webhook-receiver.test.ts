/**
 * examples/webhook-receiver.ts verifies, with the svix library, deliveries
 * signed by the Worker's own signing code (worker/services/webhooks/signing.ts),
 * including the two-signature header of a rotation overlap, and refuses
 * tampered, stale or wrongly signed ones.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReceiver, verifyDelivery, type BabyPicEvent } from "../../examples/webhook-receiver.ts";
import { generateSecret, signatureHeader } from "../../worker/services/webhooks/signing.ts";

const secret = generateSecret();
const events: { id: string; event: BabyPicEvent }[] = [];
const server = createReceiver(secret, (id, event) => events.push({ id, event }));
let url = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function delivery(secrets: string[], opts: { id?: string; ts?: number; body?: string } = {}) {
  const body = opts.body ?? JSON.stringify({ type: "generation.completed", timestamp: "2026-12-05T22:00:00.000Z", data: { generationId: "gen_1", status: "completed" } });
  const id = opts.id ?? `evt_${Math.random().toString(16).slice(2)}`;
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return { id, body, headers: { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": await signatureHeader(secrets, id, ts, body) } };
}

describe("webhook receiver example", () => {
  it("accepts a signed delivery once (retries deduplicated by webhook-id) and refuses bad ones", async () => {
    const d = await delivery([secret]);
    for (let i = 0; i < 2; i++) expect((await fetch(url, { method: "POST", headers: d.headers, body: d.body })).status).toBe(204);
    expect(events).toEqual([{ id: d.id, event: JSON.parse(d.body) as BabyPicEvent }]);

    expect((await fetch(url, { method: "POST", headers: d.headers, body: d.body.replace("gen_1", "gen_2") })).status).toBe(400);
    const stale = await delivery([secret], { ts: Math.floor(Date.now() / 1000) - 3600 });
    expect((await fetch(url, { method: "POST", headers: stale.headers, body: stale.body })).status).toBe(400);
    const wrong = await delivery([generateSecret()]);
    expect((await fetch(url, { method: "POST", headers: wrong.headers, body: wrong.body })).status).toBe(400);
  });

  it("verifies a rotation-overlap delivery signed by old and new secret with either", async () => {
    const next = generateSecret();
    const d = await delivery([next, secret]);
    expect(verifyDelivery(secret, d.body, d.headers)?.type).toBe("generation.completed");
    expect(verifyDelivery(next, d.body, d.headers)?.type).toBe("generation.completed");
    expect(verifyDelivery(generateSecret(), d.body, d.headers)).toBeNull();
  });
});
