/**
 * Services placed on the request context by one middleware (and built the
 * same way by the queue and cron handlers). Tests build them with their own
 * clock or fakes through `overrides`.
 */
import { createDb } from "../db/client";
import { errorName, logger } from "../lib/log";
import { loadConfig, type Bindings } from "../env";
import { registerServices } from "./crypto/fields";
import type { Services } from "./types";

export type { Services } from "./types";

/** The fallback `waitUntil`: start the task, log a failure, wait for nothing. */
function unawaited(task: Promise<unknown>): void {
  task.catch((err: unknown) => {
    logger.error("background_task_failed", { name: errorName(err) });
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
