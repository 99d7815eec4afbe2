/**
 * Networkless verification of Clerk session JWTs (and of the local provider's,
 * which share the shape and the path): signature with CLERK_JWT_KEY, exp/nbf
 * with Clerk's small clock skew, and `azp` against the authorized parties.
 */
import { verifyToken } from "@clerk/backend";
import type { Config } from "../env";
import { MAX_SESSION_TOKEN_LIFETIME_MS } from "../services/deleted-credentials";

export type SessionResult =
  | { ok: true; subject: string; sessionId: string; email: string | null; issuedAt: number; claims: Record<string, unknown> }
  | { ok: false; reason: string };

export function authorizedParties(config: Pick<Config, "CLERK_AUTHORIZED_PARTIES" | "APP_ORIGIN">): string[] {
  return config.CLERK_AUTHORIZED_PARTIES.length ? config.CLERK_AUTHORIZED_PARTIES : [config.APP_ORIGIN];
}

export async function verifySession(token: string, config: Config): Promise<SessionResult> {
  let claims: Record<string, unknown>;
  try {
    // The package's top-level verifyToken throws TokenVerificationError.
    claims = (await verifyToken(token, {
      jwtKey: config.CLERK_JWT_KEY,
      authorizedParties: authorizedParties(config),
    })) as unknown as Record<string, unknown>;
  } catch (err) {
    const reason = err && typeof err === "object" && "reason" in err ? String(err.reason) : "token-invalid";
    return { ok: false, reason };
  }
  const sub = claims["sub"];
  if (typeof sub !== "string" || sub.length === 0) return { ok: false, reason: "token-missing-sub" };
  // iat decides whether a token predates an account deletion, and the
  // lifetime bound is what lets a deleted subject be forgotten after
  // DELETED_SUBJECT_TTL_MS (services/deleted-credentials.ts).
  const iat = claims["iat"];
  const exp = claims["exp"];
  if (typeof iat !== "number" || typeof exp !== "number") return { ok: false, reason: "token-missing-iat" };
  if ((exp - iat) * 1000 > MAX_SESSION_TOKEN_LIFETIME_MS) return { ok: false, reason: "token-lifetime-too-long" };
  const sid = claims["sid"];
  const email = claims["email"];
  return {
    ok: true,
    subject: sub,
    sessionId: typeof sid === "string" ? sid : sub,
    email: typeof email === "string" ? email : null,
    issuedAt: iat,
    claims,
  };
}
