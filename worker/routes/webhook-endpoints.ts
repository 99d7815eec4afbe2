/**
 * Outgoing webhook endpoints (docs/decisions/0016-outgoing-webhooks.md).
 * Mounted at /v1/webhook-endpoints, not under /v1/webhooks/, which holds the
 * inbound provider webhooks (fal, creem, clerk): one prefix, one direction.
 * Managed from a browser session only, like API keys: a leaked API key must
 * not be able to point the user's events at a server of its choosing.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { authErrors, badRequest, jsonBody, jsonResponse, notFound, problem } from "../schemas/common";
import type { Services } from "../services/types";
import { sendOnce } from "../services/webhooks/delivery";
import {
  activeSealedSecrets,
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  MAX_ENDPOINTS,
  parseEvents,
  rotateSecret,
  WEBHOOK_EVENTS,
  type EndpointRow,
} from "../services/webhooks/endpoints";
import { checkTarget, REFUSAL_TEXT } from "../services/webhooks/ssrf";
import { idPattern, newId } from "../lib/ids";
import { iso } from "../lib/iso";

const EventEnum = z.enum(WEBHOOK_EVENTS).openapi({ description: "An event type an endpoint receives." });

const Endpoint = z
  .object({
    id: z.string().openapi({ example: "whe_5d41402abc4b2a76b9719d911017c592" }),
    url: z.string().openapi({ example: "https://hooks.example.com/babypic" }),
    events: z.array(EventEnum),
    createdAt: z.string().openapi({ format: "date-time" }),
    previousSecretExpiresAt: z.string().nullable().openapi({ format: "date-time", description: "Until when the secret before the last rotation still signs too." }),
  })
  .openapi("WebhookEndpoint");

const WithSecret = Endpoint.extend({
  secret: z.string().openapi({ description: "The signing secret `whsec_...` (Standard Webhooks). Shown once.", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
}).openapi("WebhookEndpointWithSecret");

const EndpointList = z.object({ endpoints: z.array(Endpoint) }).openapi("WebhookEndpointList");

const CreateEndpoint = z
  .object({
    url: z.string().max(2048).openapi({ example: "https://hooks.example.com/babypic", description: "https only (http://127.0.0.1 in development); never a private, loopback or reserved address." }),
    events: z.array(EventEnum).min(1).max(WEBHOOK_EVENTS.length),
  })
  .strict()
  .openapi("CreateWebhookEndpointRequest");

const Delivery = z
  .object({
    id: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    attempt: z.number().int(),
    statusCode: z.number().int().nullable(),
    errorClass: z.enum(["http_status", "timeout", "network", "redirect", "refused_target"]).nullable(),
    final: z.boolean().openapi({ description: "No further attempt follows (delivered, or given up)." }),
    at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("WebhookDelivery");

const TestResult = z
  .object({ delivered: z.boolean(), statusCode: z.number().int().nullable(), errorClass: Delivery.shape.errorClass })
  .openapi("WebhookTestResult");

const Params = z.object({
  id: z
    .string()
    .regex(idPattern("whe"))
    .openapi({ param: { name: "id", in: "path" }, example: "whe_5d41402abc4b2a76b9719d911017c592" }),
});

function view(row: EndpointRow) {
  return { id: row.id, url: row.url, events: parseEvents(row.events), createdAt: new Date(row.createdAt).toISOString(), previousSecretExpiresAt: iso(row.previousExpiresAt) };
}

const errors = {
  401: problem("Missing or invalid session (`unauthorized`), or one issued before its account was deleted (`account_deleted`)."),
  403: problem("An API key, even a valid one (`insufficient_scope`): webhook endpoints are managed from a browser session only."),
  429: authErrors[429],
};

async function owned(s: Services, userId: string, id: string): Promise<EndpointRow> {
  const row = await getEndpoint(s, userId, id);
  if (!row) throw new AppError("not_found");
  return row;
}

export const webhookEndpointRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/webhook-endpoints",
      tags: ["webhooks"],
      operationId: "createWebhookEndpoint",
      summary: "Register a webhook endpoint (session only)",
      description: `Returns the signing secret once. At most ${MAX_ENDPOINTS} endpoints per user. The URL is checked against private and reserved addresses after DNS resolution.`,
      ...authenticated({ session: true, limit: "write" }),
      request: { body: jsonBody(CreateEndpoint) },
      responses: {
        201: jsonResponse("The endpoint, with its secret", WithSecret),
        400: problem("Invalid input (`validation_failed`), or a URL that is not https, has credentials, or is or resolves to a non-public address (`webhook_url_refused`)."),
        ...errors,
        409: problem(`Already ${MAX_ENDPOINTS} endpoints (\`conflict\`).`),
      },
    }),
    async (c) => {
      const { s, auth, audit } = ownerContext(c);
      const body = c.req.valid("json");
      const check = await checkTarget(body.url, s.config.ENVIRONMENT);
      if (!check.ok) throw new AppError("webhook_url_refused", REFUSAL_TEXT[check.reason], { reason: check.reason });
      const result = await createEndpoint(s, auth.userId, { url: check.url.toString(), events: body.events });
      if (!result.ok) throw new AppError("conflict", `You already have ${MAX_ENDPOINTS} webhook endpoints; delete one first.`);
      await audit({ action: "webhook_endpoint.created", target: { type: "webhook_endpoint", id: result.row.id }, detail: { host: check.url.host, events: result.row.events } });
      c.header("cache-control", "no-store");
      return c.json({ ...view(result.row), secret: result.secret }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/webhook-endpoints",
      tags: ["webhooks"],
      operationId: "listWebhookEndpoints",
      summary: "List webhook endpoints (session only)",
      ...authenticated({ session: true, limit: "read" }),
      responses: { 200: jsonResponse("The endpoints (never their secrets)", EndpointList), ...errors },
    }),
    async (c) => {
      const rows = await listEndpoints(c.get("services"), c.get("auth").userId);
      return c.json({ endpoints: rows.map(view) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/webhook-endpoints/{id}",
      tags: ["webhooks"],
      operationId: "deleteWebhookEndpoint",
      summary: "Delete a webhook endpoint and its delivery log (session only)",
      ...authenticated({ session: true, limit: "write" }),
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...badRequest, ...errors, ...notFound },
    }),
    async (c) => {
      const { s, auth, audit } = ownerContext(c);
      const row = await owned(s, auth.userId, c.req.valid("param").id);
      await deleteEndpoint(s, row);
      await audit({ action: "webhook_endpoint.deleted", target: { type: "webhook_endpoint", id: row.id } });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/webhook-endpoints/{id}/rotate-secret",
      tags: ["webhooks"],
      operationId: "rotateWebhookEndpointSecret",
      summary: "Rotate the signing secret (session only)",
      description: "Returns the new secret once. For 24 hours every delivery carries two `v1,` signatures, by the old and the new secret, so receivers can switch without losing events.",
      ...authenticated({ session: true, limit: "write" }),
      request: { params: Params },
      responses: { 200: jsonResponse("The endpoint, with its new secret", WithSecret), ...badRequest, ...errors, ...notFound },
    }),
    async (c) => {
      const { s, auth, audit } = ownerContext(c);
      const row = await owned(s, auth.userId, c.req.valid("param").id);
      const rotated = await rotateSecret(s, row);
      await audit({ action: "webhook_endpoint.secret_rotated", target: { type: "webhook_endpoint", id: row.id } });
      c.header("cache-control", "no-store");
      return c.json({ ...view(rotated.row), secret: rotated.secret }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/webhook-endpoints/{id}/test",
      tags: ["webhooks"],
      operationId: "testWebhookEndpoint",
      summary: "Send a signed `webhook.test` event now (session only)",
      description: "One attempt, no retries, not logged; the answer says how the endpoint responded.",
      ...authenticated({ session: true, limit: "write" }),
      request: { params: Params },
      responses: { 200: jsonResponse("How the endpoint answered", TestResult), ...badRequest, ...errors, ...notFound },
    }),
    async (c) => {
      const s = c.get("services");
      const row = await owned(c.get("services"), c.get("auth").userId, c.req.valid("param").id);
      const result = await sendOnce(
        s,
        { url: row.url, sealedSecrets: activeSealedSecrets(row, s.now()) },
        { eventId: newId("evt"), type: "webhook.test", timestamp: new Date(s.now()).toISOString(), data: { endpointId: row.id, status: "test" } },
      );
      return c.json({ delivered: result.ok, statusCode: result.statusCode, errorClass: result.errorClass }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/webhook-endpoints/{id}/deliveries",
      tags: ["webhooks"],
      operationId: "listWebhookDeliveries",
      summary: "Recent delivery attempts of an endpoint (session only)",
      description: "The last 50 attempts, newest first: event, attempt, status code, error class. Never the payload or signature.",
      ...authenticated({ session: true, limit: "read" }),
      request: { params: Params },
      responses: { 200: jsonResponse("The attempts", z.object({ deliveries: z.array(Delivery) }).openapi("WebhookDeliveryList")), ...badRequest, ...errors, ...notFound },
    }),
    async (c) => {
      const s = c.get("services");
      const row = await owned(c.get("services"), c.get("auth").userId, c.req.valid("param").id);
      const rows = await listDeliveries(s, row.id);
      return c.json(
        {
          deliveries: rows.map((d) => ({
            id: d.id,
            eventId: d.eventId,
            eventType: d.eventType,
            attempt: d.attempt,
            statusCode: d.statusCode,
            errorClass: (d.errorClass as z.infer<typeof Delivery>["errorClass"]) ?? null,
            final: d.final === 1,
            at: new Date(d.at).toISOString(),
          })),
        },
        200,
      );
    },
  );
