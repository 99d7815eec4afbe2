/**
 * A cap on request bodies, applied before any route parses one: JSON (and
 * anything else) sent to the API is at most MAX_JSON_BODY_BYTES. A declared
 * Content-Length over the cap is refused without reading; a body without one
 * is read only up to the cap. Over it: 413 problem+json `payload_too_large`
 * (RFC 9110 §15.5.14). The photo upload and the webhooks have their own
 * caps (MAX_UPLOAD_BYTES; the webhook routes' limits) and are left to them.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { readBodyCapped } from "../lib/body";

/** 64 KiB: far above any JSON request of this API (the largest is a few hundred bytes). */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** Routes that read their own body under their own cap. */
function hasOwnCap(method: string, path: string): boolean {
  return (method === "POST" && path === "/v1/photos") || path.startsWith("/v1/webhooks/");
}

export const bodyLimit = createMiddleware<AppEnv>(async (c, next) => {
  const req = c.req.raw;
  if (!req.body || hasOwnCap(req.method, c.req.path)) return next();
  const bytes = await readBodyCapped(req, MAX_JSON_BODY_BYTES);
  if (!bytes) throw new AppError("payload_too_large", `Request bodies are at most ${MAX_JSON_BODY_BYTES} bytes.`);
  // The route parses these bytes, never the original stream.
  c.req.raw = new Request(req, { body: bytes });
  await next();
});
