/**
 * The services every request, job and cron run is handed. Built by
 * createServices (./index.ts); defined here, apart from it, so that the
 * modules createServices itself imports (crypto/fields.ts, crypto/keys.ts)
 * can name the type without an import circle.
 */
import type { Db } from "../db/client";
import type { Bindings, Config } from "../env";
import type { RateLimiter } from "./rate-limiter";

export interface Services {
  env: Bindings;
  config: Config;
  db: Db;
  /** Milliseconds since the epoch; injectable so retention tests can move time. */
  now: () => number;
  /** Overrides the Workers Rate Limiting bindings (tests inject a fake to prove 429s). */
  rateLimiter?: RateLimiter;
  /**
   * Runs `task` after the response is sent (the request's
   * `ExecutionContext.waitUntil`), for work the answer must not wait on or
   * reveal by its timing. Without a context (scripts, some tests) the task
   * simply runs unawaited. Failures are logged, never thrown.
   */
  waitUntil: (task: Promise<unknown>) => void;
}
