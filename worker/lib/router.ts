import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { logSecurityEvent, notFoundFor, type OwnedTable } from "../services/security-log";
import { logger } from "./log";
import { readWebhookBody } from "./body";
import { requestMeta } from "./request-meta";

/**
 * Every resource router is made here so that zod validation failures become
 * one `validation_failed` problem listing the offending fields.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError("validation_failed", `The ${result.target} has invalid fields.`, {
          errors: result.error.issues.map((i) => ({
            field: i.path.length ? i.path.join(".") : result.target,
            message: i.message,
          })),
        });
      }
    },
  });
}

/**
 * What an authenticated route's handler starts with: the services, the
 * caller, the request's minimised metadata (for the audit log), and the
 * owner-scoped 404 for an id that is not the caller's (a `not_found_probe`
 * security event when it exists under another user; services/security-log.ts).
 */
export function handlerContext(c: Context<AppEnv>) {
  const s = c.get("services");
  const auth = c.get("auth");
  const meta = requestMeta(c.req.raw, c.get("requestId"));
  const notFound = (table: OwnedTable, id: string, reason?: string) =>
    notFoundFor(s, { table, id, userId: auth.userId, meta, path: c.req.path, ...(reason === undefined ? {} : { reason }) });
  return { s, auth, meta, notFound };
}

/** A webhook's signing secret; a deployment without it answers 500 `misconfigured` (logged, never the secret). */
export function webhookSecret(c: Context<AppEnv>, name: "CLERK_WEBHOOK_SECRET" | "CREEM_WEBHOOK_SECRET"): string {
  const secret = c.get("services").config[name];
  if (!secret) {
    logger.error("misconfigured", { problems: [`${name} is missing`], requestId: c.get("requestId") });
    throw new AppError("misconfigured");
  }
  return secret;
}

/**
 * A webhook delivery's start: the services, the request's metadata, and the
 * raw body (at most `maxBytes`, read before any parsing because the signature
 * covers the exact bytes).
 */
export async function webhookDelivery(c: Context<AppEnv>, maxBytes: number) {
  const s = c.get("services");
  const meta = requestMeta(c.req.raw, c.get("requestId"));
  const raw = await readWebhookBody(c.req.raw, maxBytes);
  return { s, meta, raw };
}

/** A delivery whose signature failed: one security-log entry with the reason (never the signature), then 401 `invalid_signature`. */
export async function refuseSignature(c: Context<AppEnv>, reason: string, detail: string): Promise<never> {
  const s = c.get("services");
  await logSecurityEvent(s.db, "signature_failed", requestMeta(c.req.raw, c.get("requestId")), s.now(), { reason, path: c.req.path });
  throw new AppError("invalid_signature", detail);
}
