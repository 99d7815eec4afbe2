/**
 * Integrator API keys: created, listed and revoked by the user from a browser
 * session only. An API key never manages keys (it gets the same 401 as any
 * other credential a route does not accept), so a leaked key cannot mint
 * itself successors or hide by revoking others.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createApiKey, listApiKeys, MAX_ACTIVE_KEYS, openApiKeyRow, parseScopes, revokeApiKey, type ApiKeyRow } from "../auth/api-keys";
import { SCOPES } from "../auth/types";
import { AppError } from "../errors";
import { decodeKeysetCursor, keysetPage } from "../lib/cursor";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated, requireStepUpFor } from "../middleware/auth";
import { authErrors, badRequest, jsonBody, jsonResponse, notFound, PageQuery, problem, stepUpErrors } from "../schemas/common";
import { iso } from "../lib/iso";
import { idPattern } from "../lib/ids";

const DAY_MS = 86_400_000;

const ScopeEnum = z.enum(SCOPES).openapi({ description: "What the key may do; a browser session has every scope." });

const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The first characters of the secret, to recognise it." }),
    scopes: z.array(ScopeEnum),
    createdAt: z.string().openapi({ format: "date-time" }),
    expiresAt: z.string().nullable().openapi({ format: "date-time" }),
    lastUsedAt: z.string().nullable().openapi({ format: "date-time" }),
    revokedAt: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("ApiKey");

const example = {
  id: "key_5d41402abc4b2a76b9719d911017c592",
  name: "My integration",
  prefix: "bp_Xq3t9LkA",
  scopes: ["photos:write", "generations:write", "generations:read"],
  createdAt: "2026-11-27T06:00:00.000Z",
  expiresAt: "2027-02-25T06:00:00.000Z",
  lastUsedAt: null,
  revokedAt: null,
};

const CreatedApiKey = ApiKey.extend({
  secret: z.string().openapi({ description: "The key itself, `bp_...`. Shown once: only its SHA-256 is stored." }),
}).openapi("CreatedApiKey", { example: { ...example, secret: "bp_Xq3t9LkA8mZr2VwPq0cY7uH1sJ4dF6gT5bN8eK3oL0" } });

const ApiKeyList = z.object({ keys: z.array(ApiKey), nextCursor: z.string().nullable() }).openapi("ApiKeyList", { example: { keys: [example], nextCursor: null } });

const CreateApiKey = z
  .object({
    name: z.string().trim().min(1).max(64).openapi({ example: "My integration" }),
    scopes: z.array(ScopeEnum).min(1).max(SCOPES.length),
    expiresInDays: z.number().int().min(1).max(365).optional().openapi({ description: "Omit for a key that never expires.", example: 90 }),
  })
  .strict()
  .openapi("CreateApiKeyRequest", { example: { name: "My integration", scopes: ["photos:write", "generations:write", "generations:read"], expiresInDays: 90 } });

const KeyParams = z.object({
  id: z
    .string()
    .regex(idPattern("key"))
    .openapi({ param: { name: "id", in: "path" }, example: "key_5d41402abc4b2a76b9719d911017c592" }),
});

function view(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: parseScopes(row.scopes),
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
  };
}

/** A key that can change or spend something, not only read. */
const isWriteScope = (scope: string) => scope.endsWith(":write");
const sessionOnlyErrors = {
  401: problem("Missing or invalid session (`unauthorized`), or one issued before its account was deleted (`account_deleted`)."),
  403: problem("An API key, even a valid one (`insufficient_scope`): keys are managed from a browser session only."),
  429: authErrors[429],
};

export const apiKeyRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/api-keys",
      tags: ["api-keys"],
      operationId: "createApiKey",
      summary: "Create an API key (session only)",
      description: `Returns the secret once. At most ${MAX_ACTIVE_KEYS} active keys per user. A key with any \`:write\` scope needs a sign-in check within the last 10 minutes.`,
      ...authenticated({ session: true, limit: "write" }),
      request: { body: jsonBody(CreateApiKey) },
      responses: {
        201: jsonResponse("The new key, with its secret", CreatedApiKey),
        ...badRequest,
        ...sessionOnlyErrors,
        ...stepUpErrors,
        409: problem(`Already ${MAX_ACTIVE_KEYS} active keys (\`conflict\`); revoke one first.`),
      },
    }),
    async (c) => {
      const { s, auth, audit } = ownerContext(c);
      const body = c.req.valid("json");
      if (body.scopes.some(isWriteScope)) requireStepUpFor(c);
      const now = s.now();
      const result = await createApiKey(
        s,
        { userId: auth.userId, name: body.name, scopes: body.scopes, expiresAt: body.expiresInDays ? now + body.expiresInDays * DAY_MS : null },
        now,
      );
      if (!result.ok) throw new AppError("conflict", `You already have ${MAX_ACTIVE_KEYS} active API keys; revoke one first.`);
      await audit(
        {
          action: "api_key.created",
          target: { type: "api_key", id: result.row.id },
          detail: { name: result.row.name, scopes: parseScopes(result.row.scopes).join(" "), expiresAt: iso(result.row.expiresAt) },
        },
        now,
      );
      c.header("cache-control", "no-store");
      return c.json({ ...view(result.row), secret: result.secret }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api-keys",
      tags: ["api-keys"],
      operationId: "listApiKeys",
      summary: "List API keys (session only)",
      description: "Newest first, revoked and expired keys included.",
      ...authenticated({ session: true, limit: "read" }),
      request: { query: PageQuery },
      responses: { 200: jsonResponse("The keys (never their secrets)", ApiKeyList), ...badRequest, ...sessionOnlyErrors },
    }),
    async (c) => {
      const s = c.get("services");
      const { limit, cursor } = c.req.valid("query");
      const rows = await listApiKeys(s.db, c.get("auth").userId, limit + 1, cursor ? decodeKeysetCursor(cursor, "key") : undefined);
      const { page, nextCursor } = keysetPage(rows, limit);
      const opened = await Promise.all(page.map((r) => openApiKeyRow(s, r)));
      return c.json({ keys: opened.map(view), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/api-keys/{id}",
      tags: ["api-keys"],
      operationId: "revokeApiKey",
      summary: "Revoke an API key (session only)",
      description: "The key stops working at once. Revoking an already revoked key is a no-op. Needs a sign-in check within the last 10 minutes.",
      ...authenticated({ session: true, stepUp: true, limit: "write" }),
      request: { params: KeyParams },
      responses: { 204: { description: "Revoked" }, ...badRequest, ...sessionOnlyErrors, ...stepUpErrors, ...notFound },
    }),
    async (c) => {
      const { s, auth, missing, audit } = ownerContext(c);
      const now = s.now();
      const result = await revokeApiKey(s.db, auth.userId, c.req.valid("param").id, now);
      if (!result.ok) {
        throw await missing("api_keys", c.req.valid("param").id, "api-key-of-another-user");
      }
      if (result.revokedNow) {
        await audit({ action: "api_key.revoked", target: { type: "api_key", id: result.row.id }, detail: { name: (await openApiKeyRow(s, result.row)).name } }, now);
      }
      return c.body(null, 204);
    },
  );
