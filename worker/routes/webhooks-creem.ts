/**
 * `POST /v1/webhooks/creem`: Creem's signed payment events. The signature is
 * checked over the raw bytes before anything is parsed; failures get one
 * generic 401 and a security-log entry with the reason (never the signature).
 * Rate limited per client IP in createApp, like every unauthenticated route.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { createRouter, refuseSignature, webhookDelivery, webhookSecret } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { jsonResponse, problem } from "../schemas/common";
import { applyCreemEvent } from "../services/billing";
import { CreemEventEnvelope, verifyCreemSignature } from "../services/creem";

/** Creem events are a few KiB; anything far larger is not one. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

const Ack = z
  .object({
    received: z.literal(true),
    outcome: z.enum(["credited", "reversed", "duplicate", "ignored"]).openapi({
      description: "`duplicate`: this event id (or its checkout) was already applied; `ignored`: an event type or state we do not act on.",
    }),
  })
  .openapi("WebhookAck", { example: { received: true, outcome: "credited" } });

/** Documented as a plain JSON Schema: a zod body here would make the validator consume and re-serialise the raw bytes the signature covers. */
const creemEventSchema = {
  type: "object" as const,
  required: ["id", "eventType", "object"],
  properties: {
    id: { type: "string" as const, description: "Creem event id; processing is idempotent on it." },
    eventType: { type: "string" as const, description: "`checkout.completed` credits, `refund.created` reverses; others are acknowledged." },
    created_at: { type: "integer" as const },
    object: { type: "object" as const, description: "The checkout or refund." },
  },
  example: {
    id: "evt_5WHHcZPv7VS0YUsberIuOz",
    eventType: "checkout.completed",
    created_at: 1728734325927,
    object: {
      id: "ch_4l0N34kxo16AhRKUHFUuXr",
      object: "checkout",
      request_id: "req_4f1c2a9e0b7d4c3a8e6f5d4c3b2a1908",
      status: "completed",
      order: { id: "ord_4aDwWXjMLpes4Kj4XqNnUA", amount: 499, currency: "EUR", status: "paid" },
      metadata: { userId: "usr_9f86d081884c7d659a2feaa0c55ad015" },
    },
  },
};

export const creemWebhookRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/webhooks/creem",
    ...anonymous(),
    tags: ["webhooks"],
    operationId: "creemWebhook",
    summary: "Creem payment events (called by Creem)",
    description:
      "Verifies `creem-signature` (hex HMAC-SHA256 of the raw body with the webhook secret), then applies `checkout.completed` " +
      "(credits the pack) and `refund.created` (reverses it once). Idempotent on the event id. Not for integrators.",
    request: {
      headers: z.object({
        "creem-signature": z.string().optional().openapi({ description: "Hex HMAC-SHA256 of the raw body.", example: "9f2c4e1d0b8a7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a291807f6e" }),
      }),
      body: { content: { "application/json": { schema: creemEventSchema } }, required: true },
    },
    responses: {
      200: jsonResponse("Processed (or already processed)", Ack),
      400: problem("Not JSON, or not a Creem event (`bad_request`, `validation_failed`)."),
      401: problem("Missing or wrong signature (`invalid_signature`)."),
      409: problem("A refund arrived before its purchase (`conflict`); Creem redelivers it later."),
      413: problem("Body over 64 KiB (`payload_too_large`)."),
      429: problem("Rate limited (`rate_limited`); see `Retry-After`."),
    },
  }),
  async (c) => {
    const secret = webhookSecret(c, "CREEM_WEBHOOK_SECRET");
    const { s, meta, raw } = await webhookDelivery(c, MAX_WEBHOOK_BYTES);
    const check = await verifyCreemSignature(secret, raw, c.req.header("creem-signature"));
    if (!check.ok) return refuseSignature(c, `creem:${check.reason}`, "The creem-signature header does not match the body.");
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw));
    } catch {
      throw new AppError("bad_request", "The body is not UTF-8 JSON.");
    }
    const envelope = CreemEventEnvelope.safeParse(json);
    if (!envelope.success) {
      throw new AppError("validation_failed", "The body is not a Creem event.", {
        errors: envelope.error.issues.map((i) => ({ field: i.path.length ? i.path.join(".") : "body", message: i.message })),
      });
    }
    const outcome = await applyCreemEvent(s, envelope.data, meta);
    return c.json({ received: true as const, outcome: outcome.status }, 200);
  },
);
