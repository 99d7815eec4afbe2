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
  /**
   * Runs `task` after the response is sent (the request's
   * `ExecutionContext.waitUntil`), for work the answer must not wait on or
   * reveal by its timing. Without a context (scripts, some tests) the task
   * simply runs unawaited. Failures are logged, never thrown.
   */
  waitUntil: (task: Promise<unknown>) => void;
}

/** The fallback `waitUntil`: start the task, log a failure, wait for nothing. */
function unawaited(task: Promise<unknown>): void {
  task.catch((err: unknown) => {
    console.error(JSON.stringify({ level: "error", event: "background_task_failed", name: err instanceof Error ? err.name : "unknown" }));
  });
}

export function createServices(env: Bindings, overrides: Partial<Services> = {}): Services {
  return registerServices({
    env,
    config: loadConfig(env),
    db: createDb(env.DB),
    now: () => Date.now(),
    waitUntil: unawaited,
    ...overrides,
  });
}
