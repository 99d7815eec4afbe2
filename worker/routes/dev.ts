/**
 * Local identity provider endpoints. Mounted only when ENVIRONMENT is
 * development (see createApp); the config check also refuses to start if its
 * key is configured anywhere else.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { LOCAL_USERS, signLocalSession } from "../auth/local-idp";
import { AppError } from "../errors";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { badRequest, jsonResponse } from "../schemas/common";
import { devPingKey } from "../services/generation-jobs";

const LocalUserId = z.enum(LOCAL_USERS.map((u) => u.id) as [string, ...string[]]);

export const devRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/dev/users",
      operationId: "getDevUsers",
      ...anonymous(),
      tags: ["development"],
      summary: "Local users to sign in as (development only)",
      responses: {
        200: {
          description: "Local users",
          content: { "application/json": { schema: z.object({ users: z.array(z.object({ id: z.string(), name: z.string(), email: z.string() })) }) } },
        },
      },
    }),
    (c) => c.json({ users: LOCAL_USERS.map((u) => ({ id: u.id, name: u.name, email: u.email })) }, 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/dev/session",
      operationId: "postDevSession",
      ...anonymous(),
      tags: ["development"],
      summary: "Mint a Clerk-shaped session token for a local user (development only)",
      description:
        "`verifiedAt` (optional) keeps the time of the last sign-in check when the SPA refreshes a token, so the token's `fva` claim " +
        "ages as Clerk's does; without it the token counts as just verified (the local \"confirm it's you\" dialog).",
      request: {
        body: {
          content: { "application/json": { schema: z.object({ user: LocalUserId, verifiedAt: z.iso.datetime().optional() }).strict() } },
          required: true,
        },
      },
      responses: {
        200: {
          description: "A session JWT",
          content: { "application/json": { schema: z.object({ token: z.string(), expiresAt: z.string(), verifiedAt: z.string() }) } },
        },
        ...badRequest,
      },
    }),
    async (c) => {
      const { config } = c.get("services");
      const key = config.LOCAL_IDP_PRIVATE_KEY;
      if (config.ENVIRONMENT !== "development" || !key) throw new AppError("not_found");
      const { user, verifiedAt } = c.req.valid("json");
      const ttl = 3600;
      const nowSeconds = Math.floor(Date.now() / 1000);
      // Never in the future; a claimed time older than a day is a day.
      const verifiedAtSeconds = verifiedAt ? Math.min(nowSeconds, Math.max(nowSeconds - 86_400, Math.floor(Date.parse(verifiedAt) / 1000))) : nowSeconds;
      const token = await signLocalSession({ privateKeyPem: key, user, azp: config.APP_ORIGIN, ttlSeconds: ttl, nowSeconds, verifiedAtSeconds });
      return c.json(
        { token, expiresAt: new Date((nowSeconds + ttl) * 1000).toISOString(), verifiedAt: new Date(verifiedAtSeconds * 1000).toISOString() },
        200,
      );
    },
  )
  // Development-only benchmark hook (bench/pipeline): the bare queue round
  // trip, measured exactly like a generation (POST, then poll). Under
  // /v1/dev/*, which answers 404 outside ENVIRONMENT=development.
  .openapi(
    createRoute({
      method: "post",
      path: "/dev/queue-ping",
      operationId: "postDevQueuePing",
      ...anonymous(),
      hide: true,
      responses: { 202: jsonResponse("Queued", z.object({ pingId: z.string(), sentAt: z.number() })) },
    }),
    async (c) => {
      const s = c.get("services");
      const pingId = crypto.randomUUID();
      const sentAt = s.now();
      await s.env.JOBS.send({ kind: "dev.ping", pingId });
      return c.json({ pingId, sentAt }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/dev/queue-ping/{pingId}",
      operationId: "getDevQueuePingByPingId",
      ...anonymous(),
      hide: true,
      request: { params: z.object({ pingId: z.string().regex(/^[0-9a-f-]{36}$/) }) },
      responses: { 200: jsonResponse("Whether the consumer saw it", z.object({ receivedAt: z.number().nullable() })) },
    }),
    async (c) => {
      const obj = await c.get("services").env.BUCKET.get(devPingKey(c.req.valid("param").pingId));
      return c.json({ receivedAt: obj ? Number(await obj.text()) : null }, 200);
    },
  );
