/**
 * `GET /v1/audit/keys` (public: the Ed25519 keys that sign audit
 * checkpoints, retired ones included so old checkpoints still verify), and
 * the checkpoint schemas `GET /v1/account/audit/checkpoints` (routes/account.ts)
 * answers with. See docs/audit-log.md for what a checkpoint proves.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { CHECKPOINT_CONTEXT } from "../lib/audit-verify";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { jsonResponse, problem } from "../schemas/common";
import { publicAuditKeys } from "../services/audit-checkpoints";

export const AuditKeySchema = z
  .object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string().openapi({ description: "The 32-byte public key, base64url (RFC 8037)." }),
    kid: z.string().openapi({ description: "Matches a checkpoint's keyId." }),
    use: z.literal("sig"),
    alg: z.literal("EdDSA"),
    status: z.enum(["current", "retired"]),
    retiredAt: z
      .string()
      .nullable()
      .openapi({ description: "For a retired key: checkpoints it signed at or after this time are not valid." }),
  })
  .openapi("AuditKey");

const AuditKeySetSchema = z.object({ keys: z.array(AuditKeySchema) }).openapi("AuditKeySet");

export const CheckpointSchema = z
  .object({
    userId: z.string(),
    seq: z.number().int().openapi({ description: "The chain entry whose hash is signed." }),
    head: z.string().openapi({ description: "That entry's `hash`." }),
    time: z.string().openapi({ description: "Signing time, ISO 8601 (the exact string is signed).", example: "2026-11-27T06:00:00.000Z" }),
    keyId: z.string(),
    sig: z.string().openapi({
      description: `base64url Ed25519 signature over the UTF-8 bytes of \`${CHECKPOINT_CONTEXT}|<userId>|<seq>|<head>|<time>\`.`,
    }),
  })
  .openapi("AuditCheckpoint");

export const auditRoutes = createRouter();

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/audit/keys",
    ...anonymous(),
    tags: ["account"],
    operationId: "getAuditKeys",
    summary: "The public keys that sign activity-log checkpoints (JWK set)",
    description:
      "No authentication: the keys are public. Retired keys stay listed with `retiredAt` so checkpoints they signed before it still verify. " +
      "Keep your own copy: a key set fetched later from the same server is only as trustworthy as that server.",
    responses: { 200: jsonResponse("The key set", AuditKeySetSchema), 429: problem("Rate limited (`rate_limited`); see `Retry-After`.") },
  }),
  (c) => {
    const keys = publicAuditKeys(c.get("services").config.AUDIT_SIGNING_KEYS).map((k) => ({
      kty: k.kty,
      crv: k.crv,
      x: k.x,
      kid: k.kid,
      use: "sig" as const,
      alg: "EdDSA" as const,
      status: k.status,
      retiredAt: k.retiredAt ?? null,
    }));
    c.header("cache-control", "public, max-age=300");
    return c.json({ keys }, 200);
  },
);
