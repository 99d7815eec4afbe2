/**
 * `POST /v1/webhooks/clerk`: Clerk's identity events, delivered by Svix.
 * Verified with Clerk's own helper (`verifyWebhook`, Standard Webhooks:
 * HMAC-SHA256 over `svix-id.svix-timestamp.body`, timestamp within 5 minutes,
 * so a replayed or stale delivery fails). Failures get one generic 401 and a
 * security-log entry with a reason code, never the signature.
 *
 * `user.deleted` runs the same account deletion as `DELETE /v1/account`; it
 * is idempotent on the Svix message id and on the tombstone. Other event
 * types are acknowledged and ignored.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { verifyWebhook } from "@clerk/backend/webhooks";
import { eq } from "drizzle-orm";
import { webhookEvents } from "../db/schema";
import { createRouter, refuseSignature, webhookDelivery, webhookSecret } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { jsonResponse, problem } from "../schemas/common";
import { deleteAccount } from "../services/deletion";
import { findUserByExternalId } from "../services/users";

/** Clerk events are small; a body far larger is not one. */
export const MAX_CLERK_WEBHOOK_BYTES = 256 * 1024;

const Ack = z
  .object({
    received: z.literal(true),
    outcome: z.enum(["deleted", "pending", "unknown_user", "duplicate", "ignored"]).openapi({
      description:
        "`deleted`/`pending`: the account is deleted (or its deletion is under way and will finish); `unknown_user`: no account for that identity; " +
        "`duplicate`: this delivery was already processed; `ignored`: an event type we do not act on.",
    }),
  })
  .openapi("ClerkWebhookAck");

const UserDeleted = z.object({ type: z.literal("user.deleted"), data: z.object({ id: z.string().min(1).max(200), deleted: z.boolean().optional() }) });

const clerkEventSchema = {
  type: "object" as const,
  required: ["type", "data"],
  properties: { type: { type: "string" as const, example: "user.deleted" }, data: { type: "object" as const } },
};

export const clerkWebhookRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/webhooks/clerk",
    ...anonymous(),
    tags: ["webhooks"],
    operationId: "clerkWebhook",
    summary: "Clerk identity events (called by Clerk via Svix)",
    description: "Verifies the Svix signature headers, then deletes the account on `user.deleted`. Not for integrators.",
    request: {
      headers: z.object({
        "svix-id": z.string().optional(),
        "svix-timestamp": z.string().optional(),
        "svix-signature": z.string().optional(),
      }),
      body: { content: { "application/json": { schema: clerkEventSchema } }, required: true },
    },
    responses: {
      200: jsonResponse("Processed (or already processed)", Ack),
      401: problem("Missing, stale or wrong signature (`invalid_signature`)."),
      413: problem("Body too large (`payload_too_large`)."),
      429: problem("Rate limited (`rate_limited`); see `Retry-After`."),
    },
  }),
  async (c) => {
    const secret = webhookSecret(c, "CLERK_WEBHOOK_SECRET");
    const { s, raw: body } = await webhookDelivery(c, MAX_CLERK_WEBHOOK_BYTES);

    let event: { type: string; data: unknown };
    try {
      // The helper reads the body as text: hand it the capped copy, same headers.
      event = await verifyWebhook(new Request(c.req.url, { method: "POST", headers: c.req.raw.headers, body }), { signingSecret: secret });
    } catch (err) {
      const msg = err instanceof Error ? err.message : "";
      const reason = /missing required webhook headers/i.test(msg)
        ? "unsigned"
        : /timestamp/i.test(msg)
          ? "stale-or-future-timestamp"
          : "bad-signature";
      return refuseSignature(c, `clerk:${reason}`, "The Svix signature headers do not match the body.");
    }

    // The id is signed (it is part of the MAC input), so it is safe to dedupe on.
    const deliveryId = `clerk:${c.req.header("svix-id") ?? ""}`;
    const parsed = UserDeleted.safeParse(event);
    if (!parsed.success) return c.json({ received: true as const, outcome: "ignored" as const }, 200);

    const seen = await s.db.select({ id: webhookEvents.id }).from(webhookEvents).where(eq(webhookEvents.id, deliveryId)).get();
    if (seen) return c.json({ received: true as const, outcome: "duplicate" as const }, 200);

    const user = await findUserByExternalId(s, parsed.data.data.id);
    let outcome: "deleted" | "pending" | "unknown_user" = "unknown_user";
    if (user) outcome = (await deleteAccount(s, user.id, { source: "clerk_webhook" }))?.status ?? "deleted";
    await s.db.insert(webhookEvents).values({ id: deliveryId, provider: "clerk", receivedAt: s.now() }).onConflictDoNothing();
    return c.json({ received: true as const, outcome }, 200);
  },
);
