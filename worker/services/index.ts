/**
 * Services placed on the request context by one middleware (and built the
 * same way by the queue and cron handlers). Tests build them with their own
 * clock or fakes through `overrides`.
 */
import { createDb, type Db } from "../db/client";
import { loadConfig, type Bindings, type Config } from "../env";
import type { RateLimiter } from "../middleware/rate-limit";
import { registerServices } from "./crypto/fields";

export interface Services {
  env: Bindings;
  config: Config;
  db: Db;
  /** Milliseconds since the epoch; injectable so retention tests can move time. */
  now: () => number;
  /** Overrides the Workers Rate Limiting bindings (tests inject a fake to prove 429s). */
  rateLimiter?: RateLimiter;
}

export function createServices(env: Bindings, overrides: Partial<Services> = {}): Services {
  return registerServices({
    env,
    config: loadConfig(env),
    db: createDb(env.DB),
    now: () => Date.now(),
    ...overrides,
  });
}
