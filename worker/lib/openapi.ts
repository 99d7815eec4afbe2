/**
 * The published OpenAPI 3.1 document: what the routes declare, plus the
 * facts that createApp applies centrally and so no single route states.
 *
 * - Every route declares its security in its createRoute, through
 *   `authenticated(...)` or `anonymous(...)` (worker/middleware/auth.ts), the
 *   same call that attaches the middleware enforcing it. The routes without a
 *   credential are PUBLIC_PATHS (rate limited per IP by createApp); they get
 *   that 429 documented here.
 * - Every route names its own stable operationId in its createRoute (the
 *   generated clients' names); test/node/route-files.test.ts fails on a
 *   missing or repeated one.
 * - Answers createApp gives centrally are documented on every operation they
 *   can reach: 401/429 on authenticated ones, 400 `bad_request` and 413
 *   `payload_too_large` where a JSON body is read, 500; a header whose
 *   absence gets 428 is marked required.
 * - A JSON body or answer whose route gives no example gets one synthesised
 *   from its schema (first enum value, formats, property examples), as
 *   browsable renderers do; hand-written examples always win.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";

export type OpenAPIDocument = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

/** Routes without a credential, limited per client IP (webhooks, public reads, signed file links). */
export const PUBLIC_PATHS = [
  "/v1/health",
  "/v1/openapi.json",
  "/v1/docs",
  "/v1/keys/upload",
  "/v1/audit/keys",
  "/v1/privacy",
  "/v1/privacy-requests",
  "/v1/incidents/*",
  "/v1/transparency",
  "/v1/files/*",
  "/v1/billing/packs",
  "/v1/webhooks/*",
  "/v1/dev/*",
] as const;

export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.some((p) => (p.endsWith("/*") ? path.startsWith(p.slice(0, -1)) : path === p));
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

const problemContent = { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } };

const rateLimited = {
  description: "Rate limited per client IP (`rate_limited`); see `Retry-After`.",
  content: problemContent,
};

type Operation = NonNullable<NonNullable<NonNullable<OpenAPIDocument["paths"]>[string]>["get"]>;

/**
 * Makes sure `op` documents `status` with problem `code`: adds the response
 * if the route did not declare it, or names the code in the declared one's
 * description if it is missing there.
 */
function ensureProblem(op: Operation, status: number, code: string, sentence: string): void {
  const responses = (op.responses ??= {}) as Record<string, unknown>;
  const existing = responses[String(status)];
  if (!isSchema(existing)) {
    responses[String(status)] = { description: sentence, content: problemContent };
    return;
  }
  const description = typeof existing["description"] === "string" ? existing["description"] : "";
  if (!description.includes(`\`${code}\``)) existing["description"] = description ? `${description} ${sentence}` : sentence;
}

/** The statuses createApp's central middleware can give any operation, so no route states them. */
function documentCentralAnswers(op: Operation): void {
  const secured = !Array.isArray(op.security) || op.security.length > 0;
  if (secured) {
    ensureProblem(op, 401, "unauthorized", "Missing, expired or invalid credentials (`unauthorized`).");
    ensureProblem(op, 429, "rate_limited", "Rate limited (`rate_limited`); see `Retry-After`.");
  }
  const body = op.requestBody;
  const content = isSchema(body) && isSchema(body["content"]) ? body["content"] : {};
  if (Object.keys(content).some((type) => type.includes("json"))) {
    ensureProblem(op, 400, "bad_request", "A body that is not JSON (`bad_request`).");
    ensureProblem(op, 413, "payload_too_large", "The body is over the size limit (`payload_too_large`), refused before it is parsed.");
  }
  ensureProblem(op, 500, "internal", "An unexpected error (`internal`, with the request id to quote) or a deployment that is misconfigured (`misconfigured`).");
  // A header whose absence the operation answers with 428 Precondition Required is required (RFC 6585 §3).
  if (isSchema(op.responses?.["428"])) {
    for (const param of op.parameters ?? []) {
      if (isSchema(param) && param["in"] === "header" && String(param["name"]).toLowerCase() === "idempotency-key") param["required"] = true;
    }
  }
}

type SchemaLike = Record<string, unknown>;
const isSchema = (v: unknown): v is SchemaLike => typeof v === "object" && v !== null && !Array.isArray(v);

const FORMAT_EXAMPLES: Record<string, string> = {
  "date-time": "2026-11-27T06:00:00.000Z",
  date: "2026-11-27",
  uri: "https://api.babypic.app/v1/files/img_0f9e8d7c6b5a49382716f5e4d3c2b1a0?exp=1795766400&sig=...",
  url: "https://api.babypic.app/v1/files/img_0f9e8d7c6b5a49382716f5e4d3c2b1a0?exp=1795766400&sig=...",
  email: "parent@example.com",
  uuid: "7f1b6a1e-3c2d-4b8a-9e0f-1a2b3c4d5e6f",
};

/** A value that satisfies `schema` (best effort), for documentation only. */
export function exampleFor(schema: unknown, components: Record<string, unknown>, depth = 0): unknown {
  if (!isSchema(schema) || depth > 8) return null;
  if (typeof schema["$ref"] === "string") return exampleFor(components[schema["$ref"].split("/").pop() ?? ""], components, depth + 1);
  if (schema["example"] !== undefined) return schema["example"];
  if (Array.isArray(schema["examples"]) && schema["examples"].length) return schema["examples"][0];
  if (schema["const"] !== undefined) return schema["const"];
  if (Array.isArray(schema["enum"]) && schema["enum"].length) return schema["enum"][0];
  if (schema["default"] !== undefined) return schema["default"];
  for (const key of ["oneOf", "anyOf", "allOf"] as const) {
    const list = schema[key];
    if (Array.isArray(list) && list.length) {
      if (key !== "allOf") return exampleFor(list.find((s) => !(isSchema(s) && s["type"] === "null")) ?? list[0], components, depth + 1);
      return Object.assign({}, ...list.map((s) => exampleFor(s, components, depth + 1)).filter(isSchema));
    }
  }
  const types = Array.isArray(schema["type"]) ? schema["type"] : [schema["type"]];
  const type = types.find((t) => t !== "null") ?? types[0];
  switch (type) {
    case "string":
      return (typeof schema["format"] === "string" && FORMAT_EXAMPLES[schema["format"]]) || "string";
    case "integer":
    case "number":
      return typeof schema["minimum"] === "number" ? schema["minimum"] : 1;
    case "boolean":
      return true;
    case "null":
      return null;
    case "array":
      return [exampleFor(schema["items"], components, depth + 1)];
    default: {
      const props = isSchema(schema["properties"]) ? schema["properties"] : {};
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, exampleFor(v, components, depth + 1)]));
    }
  }
}

function hasOwnExample(media: SchemaLike, components: Record<string, unknown>): boolean {
  if (media["example"] !== undefined || media["examples"] !== undefined) return true;
  let schema = media["schema"];
  if (isSchema(schema) && typeof schema["$ref"] === "string") schema = components[schema["$ref"].split("/").pop() ?? ""];
  return isSchema(schema) && (schema["example"] !== undefined || schema["examples"] !== undefined);
}

function fillExamples(content: unknown, components: Record<string, unknown>): void {
  if (!isSchema(content)) return;
  const media = content["application/json"];
  if (isSchema(media) && media["schema"] !== undefined && !hasOwnExample(media, components)) {
    media["example"] = exampleFor(media["schema"], components);
  }
}

/** Applies the central facts to a freshly generated document (mutates and returns it). */
export function finalizeDocument(doc: OpenAPIDocument): OpenAPIDocument {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!item) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const components = (doc.components?.schemas ?? {}) as Record<string, unknown>;
      const body = op.requestBody;
      if (isSchema(body)) fillExamples(body["content"], components);
      for (const res of Object.values(op.responses ?? {})) if (isSchema(res)) fillExamples(res["content"], components);
      if (Array.isArray(op.security) && op.security.length === 0 && isPublicPath(path)) {
        op.responses = { ...op.responses, ...(op.responses?.["429"] ? {} : { 429: rateLimited }) };
      }
      documentCentralAnswers(op);
    }
  }
  return doc;
}

/**
 * The document for `serverUrl`, as served at /v1/openapi.json and rendered at
 * /v1/docs. Development-only routes (`/v1/dev/...`: the local identity
 * provider and bench hooks) answer 404 elsewhere, so they are only described
 * where they exist.
 */
export function buildDocument(
  app: OpenAPIHono<AppEnv>,
  config: Parameters<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>[0],
  opts: { developmentRoutes: boolean } = { developmentRoutes: true },
): OpenAPIDocument {
  const doc = app.getOpenAPI31Document(config);
  if (!opts.developmentRoutes && doc.paths) {
    doc.paths = Object.fromEntries(Object.entries(doc.paths).filter(([path]) => !path.startsWith("/v1/dev/")));
  }
  return finalizeDocument(doc);
}
