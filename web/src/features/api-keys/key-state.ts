import type { components } from "../../lib/api/schema";

type ApiKey = components["schemas"]["ApiKey"];
export type KeyState = "active" | "revoked" | "expired";

/** Revoked wins over expired: both refuse the key, but revocation was the user's act. */
export function keyState(k: Pick<ApiKey, "revokedAt" | "expiresAt">, now = Date.now()): KeyState {
  if (k.revokedAt) return "revoked";
  if (k.expiresAt && Date.parse(k.expiresAt) <= now) return "expired";
  return "active";
}
