/**
 * `POST /v1/privacy-requests`: the public contact form (issue 16, item 2).
 * No account needed, no cookie, nothing about the sender kept but what they
 * typed (no IP address is stored). Limited per client IP twice: by the
 * central RL_IP limit for public routes, and by RL_WRITE under a
 * `contact:ip:` key, so one address cannot fill the inbox.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { requestMeta } from "../lib/request-meta";
import { bindingRateLimiter, clientIp } from "../middleware/rate-limit";
import { badRequest, jsonBody, jsonResponse, problem } from "../schemas/common";
import { logSecurityEvent } from "../services/security-log";
import { createPrivacyRequest, REQUEST_TYPES } from "../services/privacy-requests";

const contactLimit = createMiddleware<AppEnv>(async (c, next) => {
  const s = c.get("services");
  const decision = await (s.rateLimiter ?? bindingRateLimiter(s.env)).limit("write", `contact:ip:${clientIp(c)}`);
  if (!decision.success) {
    await logSecurityEvent(s.db, "rate_limited", requestMeta(c.req.raw, c.get("requestId")), s.now(), { reason: "contact", userId: null, path: c.req.path });
    throw new AppError("rate_limited", "Too many requests from your network; retry after the number of seconds in Retry-After.", {
      retryAfter: decision.retryAfter,
    });
  }
  await next();
});

export const PrivacyRequestInput = z
  .object({
    type: z.enum(REQUEST_TYPES).openapi({
      description: "`question`; `access` or `deletion` of your data (GDPR Art. 15, 17); `takedown`: you are pictured in a generated image without your consent.",
    }),
    email: z.email().max(254).openapi({ description: "Where we answer. Erased when the request is closed.", example: "person@example.com" }),
    message: z
      .string()
      .trim()
      .min(10, "say what you need (at least 10 characters)")
      .max(5000)
      .openapi({ example: "Please send me a copy of all data you hold about me." }),
    subject: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: "For a takedown: the picture's link or id. Required for `takedown`." }),
  })
  .refine((r) => r.type !== "takedown" || r.subject !== undefined, { path: ["subject"], message: "name the picture (its link or id) for a takedown" })
  .openapi("PrivacyRequestInput");

const Received = z
  .object({
    id: z.string().openapi({ example: "prq_0f9e8d7c6b5a49382716f5e4d3c2b1a0" }),
    type: z.enum(REQUEST_TYPES),
    status: z.literal("received"),
    dueAt: z.string().nullable().openapi({ description: "The legal deadline (one month for GDPR requests); null for questions." }),
  })
  .openapi("PrivacyRequestReceived");

export const privacyRequestRoutes = createRouter();

privacyRequestRoutes.openapi(
  createRoute({
    method: "post",
    path: "/privacy-requests",
    operationId: "postPrivacyRequests",
    ...anonymous(contactLimit),
    tags: ["privacy"],
    summary: "Contact the privacy team: a question, an access or deletion request, or a takedown (public)",
    request: { body: jsonBody(PrivacyRequestInput) },
    responses: {
      201: jsonResponse("Received; quote the id when you write to us", Received),
      ...badRequest,
      429: problem("Too many requests from this network (`rate_limited`); see `Retry-After`."),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const row = await createPrivacyRequest(c.get("services"), body);
    return c.json({ id: row.id, type: row.type, status: "received" as const, dueAt: row.dueAt === null ? null : new Date(row.dueAt).toISOString() }, 201);
  },
);
