/**
 * `GET /v1/keys/upload`: the HPKE public key browsers seal photos to
 * (docs/architecture.md, docs/storage-format.md §1).
 *
 * Public, without authentication: a public key is not a secret, the SPA needs
 * it before (and independently of) a session, and the envelope binds the user
 * id in its associated data anyway, so knowing the key lets no one upload as
 * anyone. It is rate limited per IP like every unauthenticated route and
 * cacheable for five minutes, short enough for a rotation to reach clients
 * while the previous key is still accepted (docs/runbooks/keys.md).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { UPLOAD_ENVELOPE_VERSION, UPLOAD_SUITE } from "../lib/upload-envelope";
import { rateLimit } from "../middleware/rate-limit";
import { jsonResponse, problem } from "../schemas/common";
import { currentUploadPublicKey } from "../services/crypto/upload-keys";

export const UploadKeySchema = z
  .object({
    keyId: z.string().openapi({ description: "Put in the envelope; old ids stay accepted until retired." }),
    envelopeVersion: z.literal(UPLOAD_ENVELOPE_VERSION),
    suite: z.object({
      kem: z.literal("DHKEM(P-256, HKDF-SHA256)"),
      kdf: z.literal("HKDF-SHA256"),
      aead: z.literal("AES-256-GCM"),
      ids: z.object({ kem: z.literal(UPLOAD_SUITE.kem), kdf: z.literal(UPLOAD_SUITE.kdf), aead: z.literal(UPLOAD_SUITE.aead) }),
    }),
    publicKey: z
      .object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string(), y: z.string(), kid: z.string(), use: z.literal("enc") })
      .openapi({ description: "RFC 7517 JWK of the recipient public key." }),
    maxUploadBytes: z.number().int().openapi({ description: "Largest accepted envelope (body of POST /v1/photos)." }),
  })
  .openapi("UploadKey", {
    example: {
      keyId: "hpke-2026-11",
      envelopeVersion: 1,
      suite: { kem: "DHKEM(P-256, HKDF-SHA256)", kdf: "HKDF-SHA256", aead: "AES-256-GCM", ids: { kem: 16, kdf: 1, aead: 2 } },
      publicKey: {
        kty: "EC",
        crv: "P-256",
        x: "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
        y: "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        kid: "hpke-2026-11",
        use: "enc",
      },
      maxUploadBytes: 15000000,
    },
  });

export const keyRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/keys/upload",
    tags: ["photos"],
    operationId: "getUploadKey",
    summary: "The public key to seal photo uploads to (HPKE, RFC 9180)",
    description:
      "Seal each photo with HPKE base mode to this key (see docs/storage-format.md for the envelope bytes), then POST it to /v1/photos. " +
      "No authentication: the key is public.",
    ...anonymous(rateLimit("ip")),
    responses: { 200: jsonResponse("The current upload key", UploadKeySchema), 429: problem("Rate limited (`rate_limited`); see `Retry-After`.") },
  }),
  (c) => {
    const config = c.get("services").config;
    const { keyId, jwk } = currentUploadPublicKey(config.HPKE_KEYS);
    c.header("cache-control", "public, max-age=300");
    return c.json(
      {
        keyId,
        envelopeVersion: UPLOAD_ENVELOPE_VERSION,
        suite: {
          kem: "DHKEM(P-256, HKDF-SHA256)" as const,
          kdf: "HKDF-SHA256" as const,
          aead: "AES-256-GCM" as const,
          ids: { kem: UPLOAD_SUITE.kem, kdf: UPLOAD_SUITE.kdf, aead: UPLOAD_SUITE.aead },
        },
        publicKey: jwk,
        maxUploadBytes: config.MAX_UPLOAD_BYTES,
      },
      200,
    );
  },
);
