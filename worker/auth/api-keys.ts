/**
 * Integrator API keys: `bp_` + 32 random bytes (base64url). Only the SHA-256
 * of the secret is stored, so a database leak yields no usable key.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { apiKeys } from "../db/schema";
import { base64UrlEncode, sha256Hex } from "../lib/bytes";
import { SCOPES, type AuthContext, type Scope } from "./types";

export const KEY_PREFIX = "bp_";

export function generateApiKeySecret(): string {
  return KEY_PREFIX + base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

export function hashApiKey(secret: string): Promise<string> {
  return sha256Hex(secret);
}

const scopesSchema = z.array(z.enum(SCOPES));

export type ApiKeyAuth = { ok: true; auth: AuthContext } | { ok: false; reason: "api-key-unknown" | "api-key-revoked" | "api-key-expired" };

export async function authenticateApiKey(db: Db, secret: string, now: number): Promise<ApiKeyAuth> {
  const hash = await hashApiKey(secret);
  const row = await db.select().from(apiKeys).where(eq(apiKeys.hash, hash)).get();
  if (!row) return { ok: false, reason: "api-key-unknown" };
  if (row.revokedAt !== null) return { ok: false, reason: "api-key-revoked" };
  if (row.expiresAt !== null && row.expiresAt <= now) return { ok: false, reason: "api-key-expired" };
  await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id));
  const scopes = scopesSchema.safeParse(JSON.parse(row.scopes));
  return {
    ok: true,
    auth: {
      userId: row.userId,
      externalId: "",
      via: "api_key",
      actorId: row.id,
      scopes: new Set<Scope>(scopes.success ? scopes.data : []),
      isAdmin: false,
    },
  };
}
