/**
 * The rate limiter service: the Workers Rate Limiting bindings behind a small
 * interface, so tests can pass a fake through Services. The HTTP side (which
 * bucket a request counts against, the 429) is worker/middleware/rate-limit.ts.
 */
import type { Bindings } from "../env";

export type RateLimitKind = "write" | "read" | "ip";

export interface RateLimitDecision {
  success: boolean;
  /** Seconds until the window that refused this call has rolled over. */
  retryAfter: number;
}

/** A limiter service; the default wraps the bindings, tests pass a fake through Services. */
export interface RateLimiter {
  limit(kind: RateLimitKind, key: string): Promise<RateLimitDecision>;
}

/**
 * The bindings count in fixed windows of the configured period (60 s in
 * wrangler.toml) and only answer success or not, so a refused caller is told
 * to come back after one full period: never earlier than the window resets.
 */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

export function bindingRateLimiter(env: Pick<Bindings, "RL_WRITE" | "RL_READ" | "RL_IP">): RateLimiter {
  const bindings: Record<RateLimitKind, RateLimit> = { write: env.RL_WRITE, read: env.RL_READ, ip: env.RL_IP };
  return {
    async limit(kind, key) {
      const { success } = await bindings[kind].limit({ key });
      return { success, retryAfter: RATE_LIMIT_PERIOD_SECONDS };
    },
  };
}

