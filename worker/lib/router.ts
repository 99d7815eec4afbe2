import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { logSecurityEvent } from "../services/security-log";
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
