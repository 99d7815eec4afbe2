/**
 * Wrong methods on known paths (RFC 9110 §15.5.6): 405 problem+json
 * `method_not_allowed` with an `Allow` header naming the methods the path
 * has, instead of the 404 a missing route would get. `TRACE` and `CONNECT`
 * are never served (TRACE echoes requests, cookies and credentials included:
 * cross-site tracing), so they get 405 on every path. `OPTIONS` is answered
 * by the CORS middleware (204) on every /v1 path, so `Allow` lists it.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError, problemResponse } from "../errors";

interface RouteLike {
  method: string;
  path: string;
}

const NEVER_SERVED = new Set(["TRACE", "CONNECT"]);
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** `/v1/photos/:id` (Hono's form, with optional `{regex}`) as an anchored pattern. */
function pathPattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((seg) => {
      if (seg === "*") return ".*";
      if (seg.startsWith(":")) return "[^/]+";
      return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}/?$`);
}

/**
 * Builds the not-found handler for an app whose routes are `routes`
 * (read lazily: routes are added after the handler is installed).
 */
export function methodGuard(routes: () => readonly RouteLike[]) {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (c: Context<AppEnv>): Response | null => {
    table ??= routes()
      // Middleware (`app.use`) registers as ALL; only real handlers name a method.
      .filter((r) => r.method !== "ALL")
      .map((r) => ({ pattern: pathPattern(r.path), method: r.method.toUpperCase() }));
    const methods = new Set(table.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method));
    if (methods.has("GET")) methods.add("HEAD");
    const method = c.req.method.toUpperCase();
    if (methods.size === 0 && !NEVER_SERVED.has(method)) return null;
    if (methods.size) methods.add("OPTIONS");
    const allow = METHOD_ORDER.filter((m) => methods.has(m)).join(", ");
    const detail = NEVER_SERVED.has(method) ? `${method} is never served.` : `${method} is not allowed here; use ${allow}.`;
    return problemResponse(new AppError("method_not_allowed", detail), c.get("requestId"), c.req.path, { allow });
  };
}
