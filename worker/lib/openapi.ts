/**
 * The published OpenAPI 3.1 document: what the routes declare, plus the
 * facts that createApp applies centrally and so no single route states.
 *
 * - Routes without a credential are exactly PUBLIC_PATHS (rate limited per
 *   IP); they are marked `security: []` (OpenAPI 3.1 §4.8.10: an empty list
 *   removes the requirement) and documented with their 429.
 * - Every operation gets a stable operationId (derived from method and path
 *   when the route does not name one), so generated clients have names.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";

export type OpenAPIDocument = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

/** Routes without a credential, limited per client IP (webhooks, public reads, signed file links). */
export const PUBLIC_PATHS = [
  "/v1/health",
  "/v1/openapi.json",
  "/v1/docs",
  "/v1/keys/upload",
  "/v1/privacy",
  "/v1/files/*",
  "/v1/billing/packs",
  "/v1/webhooks/*",
  "/v1/dev/*",
] as const;

export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.some((p) => (p.endsWith("/*") ? path.startsWith(p.slice(0, -1)) : path === p));
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** `get /v1/account/exports/{id}` -> `getAccountExportsById`. */
export function deriveOperationId(method: string, path: string): string {
  const words = path
    .replace(/^\/v1\//, "/")
    .split("/")
    .filter(Boolean)
    .map((seg) => (seg.startsWith("{") ? `by-${seg.slice(1, -1)}` : seg))
    .flatMap((seg) => seg.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return method + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

const rateLimited = {
  description: "Rate limited per client IP (`rate_limited`); see `Retry-After`.",
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
};

/** Applies the central facts to a freshly generated document (mutates and returns it). */
export function finalizeDocument(doc: OpenAPIDocument): OpenAPIDocument {
  const used = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!item) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      let id = op.operationId ?? deriveOperationId(method, path);
      for (let n = 2; used.has(id); n++) id = `${op.operationId ?? deriveOperationId(method, path)}${n}`;
      used.add(id);
      op.operationId = id;
      if (op.security === undefined && isPublicPath(path)) {
        op.security = [];
        op.responses = { ...op.responses, ...(op.responses?.["429"] ? {} : { 429: rateLimited }) };
      }
    }
  }
  return doc;
}

/** The document for `serverUrl`, as served at /v1/openapi.json and rendered at /v1/docs. */
export function buildDocument(app: OpenAPIHono<AppEnv>, config: Parameters<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>[0]): OpenAPIDocument {
  return finalizeDocument(app.getOpenAPI31Document(config));
}
