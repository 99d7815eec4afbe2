import type { components } from "../../lib/api/schema";

type ApiKey = components["schemas"]["ApiKey"];
type Scope = ApiKey["scopes"][number];

/** A new key starts read-only: writing (uploads, generations, purchases) is a choice the user makes, not a default. */
export const DEFAULT_SCOPES: readonly Scope[] = ["account:read", "photos:read", "generations:read"];
export type KeyState = "active" | "revoked" | "expired";

/** Revoked wins over expired: both refuse the key, but revocation was the user's act. */
export function keyState(k: Pick<ApiKey, "revokedAt" | "expiresAt">, now = Date.now()): KeyState {
  if (k.revokedAt) return "revoked";
  if (k.expiresAt && Date.parse(k.expiresAt) <= now) return "expired";
  return "active";
}
