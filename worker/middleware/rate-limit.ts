/**
 * Rate limits through the Workers Rate Limiting bindings (wrangler.toml
 * `[[ratelimits]]`): RL_WRITE and RL_READ per credential (the signed-in user,
 * or the API key), RL_IP per client address for webhooks and unauthenticated
 * routes. Over the limit: `429` problem+json `rate_limited` with `Retry-After`
 * (RFC 9110 §10.2.3; RFC 6585 §4).
 *
 * Usage: `rateLimit("write")` after `requireAuth(...)`; `rateLimit("ip")` on
 * routes without authentication.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import type { AuthContext } from "../auth/types";
import { AppError } from "../errors";
import { ipBucket } from "../lib/client-address";
import { requestMeta } from "../lib/request-meta";
import { bindingRateLimiter, type RateLimitDecision, type RateLimitKind } from "../services/rate-limiter";
import { logSecurityEvent } from "../services/security-log";

export { bindingRateLimiter, RATE_LIMIT_PERIOD_SECONDS, type RateLimitDecision, type RateLimiter, type RateLimitKind } from "../services/rate-limiter";

/**
 * The per-IP bucket of a request: the address the platform gave the Worker
 * (never client-chosen headers like X-Forwarded-For), or, without one, a key
 * of the request's own (worker/lib/client-address.ts).
 */
export function clientIp(c: Context<AppEnv>): string {
  return ipBucket(c.req.raw, c.get("requestId"));
}

/**
 * Which bucket a request counts against. Per credential: a browser session
 * counts against its user, an API key against the key itself, so one noisy
 * integration cannot exhaust another key; keys per user are capped (see
 * routes/api-keys.ts) so this does not multiply a user's budget without bound.
 */
export function rateLimitKey(c: Context<AppEnv>, kind: RateLimitKind): string {
  if (kind === "ip") return `ip:${clientIp(c)}`;
  return credentialRateLimitKey(kind, c.get("auth"));
}

/** The per-credential bucket (rateLimitKey) for a caller known before `auth` is set. */
export function credentialRateLimitKey(kind: Exclude<RateLimitKind, "ip">, auth: Pick<AuthContext, "via" | "userId" | "actorId">): string {
  return auth.via === "api_key" ? `${kind}:key:${auth.actorId}` : `${kind}:user:${auth.userId}`;
}

/**
 * Which kinds a request was already counted for. createApp limits public paths
 * per IP centrally; a route that also lists rateLimit("ip") must not make one
 * request cost two.
 */
const counted = new WeakMap<Request, Set<RateLimitKind>>();

/** Marks this request as counted for `kind`; false when it already was (one request costs one). */
export function markCounted(c: Context<AppEnv>, kind: RateLimitKind): boolean {
  const seen = counted.get(c.req.raw) ?? new Set<RateLimitKind>();
  if (seen.has(kind)) return false;
  seen.add(kind);
  counted.set(c.req.raw, seen);
  return true;
}

/** Undoes markCounted (a count made for the wrong bucket). */
export function unmarkCounted(c: Context<AppEnv>, kind: RateLimitKind): void {
  counted.get(c.req.raw)?.delete(kind);
}

/** Refuses the request (429, security log) when the limiter said no. */
export async function enforceRateLimit(c: Context<AppEnv>, kind: RateLimitKind, decision: RateLimitDecision, userId: string | null): Promise<void> {
  if (decision.success) return;
  const s = c.get("services");
  await logSecurityEvent(s.db, "rate_limited", requestMeta(c.req.raw, c.get("requestId")), s.now(), { reason: kind, userId, path: c.req.path });
  throw new AppError("rate_limited", "Too many requests; retry after the number of seconds in Retry-After.", {
    retryAfter: decision.retryAfter,
  });
}

export function rateLimit(kind: RateLimitKind) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!markCounted(c, kind)) return next();
    const s = c.get("services");
    if (kind !== "ip" && !c.get("auth")) {
      // A programming error (rateLimit placed before requireAuth); fail closed.
      throw new Error(`rateLimit("${kind}") needs requireAuth first`);
    }
    const limiter = s.rateLimiter ?? bindingRateLimiter(s.env);
    const decision = await limiter.limit(kind, rateLimitKey(c, kind));
    await enforceRateLimit(c, kind, decision, kind === "ip" ? null : c.get("auth").userId);
    await next();
  });
}
