/**
 * `POST /v1/webhooks/fal`: Fal calls this when a queued request finishes.
 * Nothing is trusted before the Ed25519 signature over the raw body verifies
 * against Fal's JWKS with a fresh timestamp (providers/fal-webhook.ts);
 * unsigned, stale or forged calls get one generic 401, change nothing, and
 * land in the security log with a reason code (never the signature).
 *
 * Answers steer Fal's redelivery (it retries non-2xx answers for hours):
 * 2xx once handled (including duplicates), 409 while the request id is not
 * recorded yet (the webhook beat our own submit bookkeeping), 503 when a
 * transient error should be retried. The delayed poll message covers any
 * webhook that never arrives.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { generations } from "../db/schema";
import { AppError } from "../errors";
import { logger } from "../lib/log";
import { createRouter, refuseSignature, webhookDelivery } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { ProviderError } from "../providers/types";
import { jsonResponse, problem } from "../schemas/common";
import { failGeneration, finalizeGeneration } from "../services/generation-pipeline";

/** Outputs may arrive inline as data URIs; anything bigger than this is not a webhook we sent for. */
const MAX_WEBHOOK_BYTES = 30 * 1024 * 1024;

const Ack = z.object({ received: z.literal(true), result: z.enum(["completed", "failed", "busy", "noop", "queued"]) }).openapi("FalWebhookAck");

export const falWebhookRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/webhooks/fal",
    tags: ["webhooks"],
    operationId: "falWebhook",
    summary: "Fal queue completion webhook",
    description:
      "Called by Fal, not by clients. Verified with Ed25519 against Fal's JWKS: headers `X-Fal-Webhook-Request-Id`, " +
      "`X-Fal-Webhook-User-Id`, `X-Fal-Webhook-Timestamp` (within 300 s) and `X-Fal-Webhook-Signature` over " +
      "`request_id\\nuser_id\\ntimestamp\\nhex(sha256(body))`. The JSON body (`request_id`, `status` OK or ERROR, " +
      "`payload`) is read as raw bytes, so it is deliberately not described as a validated schema here.",
    ...anonymous(rateLimit("ip")),
    request: {
      headers: z.object({
        "x-fal-webhook-request-id": z.string().optional(),
        "x-fal-webhook-user-id": z.string().optional(),
        "x-fal-webhook-timestamp": z.string().optional(),
        "x-fal-webhook-signature": z.string().optional(),
      }),
    },
    responses: {
      200: jsonResponse("Handled (also for duplicates)", Ack),
      202: jsonResponse("Accepted; the result is fetched from Fal by a queued job", Ack),
      400: problem("Signed, but the body is not a Fal webhook payload (`bad_request`)."),
      401: problem("Missing, stale or invalid signature (`invalid_signature`)."),
      409: problem("Unknown request id for now (`conflict`); Fal retries."),
      413: problem("Body too large (`payload_too_large`)."),
      429: problem("Rate limited (`rate_limited`)."),
      503: problem("Transient failure (`upstream_unavailable`); Fal retries."),
    },
  }),
  async (c) => {
    const { s, meta, raw } = await webhookDelivery(c, MAX_WEBHOOK_BYTES);

    const verified = await s.pipeline.provider.verifyWebhook(c.req.raw.headers, raw, s.now());
    if (!verified.ok) {
      if (verified.reason === "keys-unavailable") {
        logger.error("fal_webhook.jwks_unavailable", { requestId: meta.requestId });
        throw new AppError("upstream_unavailable", "Signing keys are unavailable; retry later.", { retryAfter: 60 });
      }
      if (verified.reason === "malformed-body") throw new AppError("bad_request", "The signed body is not a Fal webhook payload.");
      return refuseSignature(c, `fal-webhook:${verified.reason}`, "The webhook signature could not be verified.");
    }

    const { requestId, outcome } = verified.delivery;
    const row = await s.db.select().from(generations).where(eq(generations.providerRequestId, requestId)).get();
    if (!row) {
      logger.info("fal_webhook.unknown_request", { falRequestId: requestId });
      throw new AppError("conflict", "Unknown request id (not recorded yet); retry later.", { retryAfter: 10 });
    }
    if (outcome === null) {
      await s.env.JOBS.send({ kind: "generation.finalize", generationId: row.id });
      return c.json({ received: true as const, result: "queued" as const }, 202);
    }
    try {
      const result = outcome.ok ? await finalizeGeneration(s, row.id, outcome) : (await failGeneration(s, row, outcome.code)) ? "failed" : "noop";
      return c.json({ received: true as const, result }, 200);
    } catch (err) {
      if (err instanceof ProviderError && err.transient) {
        logger.warn("fal_webhook.transient", { generationId: row.id, error: err.message });
        throw new AppError("upstream_unavailable", "Could not finish processing; retry later.", { retryAfter: 30 });
      }
      throw err;
    }
  },
);
