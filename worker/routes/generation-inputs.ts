/**
 * `GET /v1/generation-inputs/{token}`: single-use input links for a model that
 * only accepts URLs (worker/services/generation-inputs.ts). Fetched by the
 * model provider, not by clients, so kept out of the OpenAPI document.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { createRouter } from "../lib/router";
import { requestMeta } from "../lib/request-meta";
import { anonymous } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { problem } from "../schemas/common";
import { redeemInputLink } from "../services/generation-inputs";
import { logSecurityEvent } from "../services/security-log";

export const generationInputRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/generation-inputs/{token}",
    // Provider-facing capability, not part of the integrator API: kept out
    // of the OpenAPI document (its own tests cover single use and expiry).
    hide: true,
    tags: ["generations"],
    operationId: "getGenerationInput",
    summary: "A parent photo for the model, once (capability link)",
    description:
      "Fetched by the model provider, not by clients: a signed, single-use link that expires within minutes and serves one " +
      "parent photo of a generation that is still in flight. Any refusal is the same 404.",
    ...anonymous(rateLimit("ip")),
    request: {
      params: z.object({
        token: z
          .string()
          .max(3000)
          .openapi({ param: { name: "token", in: "path" } }),
      }),
    },
    responses: {
      200: { description: "The photo", content: { "image/jpeg": { schema: z.string().openapi({ format: "binary" }) } } },
      404: problem("Unknown, used, expired or no longer needed (`not_found`)."),
      429: problem("Rate limited (`rate_limited`)."),
    },
  }),
  async (c) => {
    const s = c.get("services");
    const result = await redeemInputLink(s, c.req.valid("param").token);
    if (!result.ok) {
      await logSecurityEvent(s.db, "link_refused", requestMeta(c.req.raw, c.get("requestId")), s.now(), {
        reason: `generation-input:${result.reason}`,
        userId: result.userId,
        path: "/v1/generation-inputs/:token",
      });
      throw new AppError("not_found", "No such input.");
    }
    return c.body(result.bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": result.contentType,
      "content-length": String(result.bytes.length),
      "cache-control": "private, no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox",
    });
  },
);
