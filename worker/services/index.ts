/**
 * The composition root: the one place that builds the services and their
 * dependencies (database, clock, image provider and pipeline storage,
 * mailer), once per request (middleware/services.ts), per queue batch
 * (queue/consumer.ts) and per cron run (scheduled.ts). Routes, jobs and
 * sweeps receive what it builds; nothing else assembles a dependency.
 * Tests build them with their own clock or fakes through `overrides`.
 */
import { createDb } from "../db/client";
import { errorName, logger } from "../lib/log";
import { loadConfig, type Bindings } from "../env";
import { providerFor } from "../providers";
import { registerServices } from "./crypto/fields";
import { createMailer } from "./mailer";
import { pipelineStorage } from "./pipeline-storage";
import type { Services } from "./types";

export type { Services } from "./types";

/** The fallback `waitUntil`: start the task, log a failure, wait for nothing. */
function unawaited(task: Promise<unknown>): void {
  task.catch((err: unknown) => {
    logger.error("background_task_failed", { name: errorName(err) });
  });
}

export function createServices(env: Bindings, overrides: Partial<Services> = {}): Services {
  const { pipeline, mailer, ...rest } = overrides;
  const base = { env, config: loadConfig(env), db: createDb(env.DB), now: () => Date.now(), waitUntil: unawaited, ...rest };
  // Built on first use: most requests never call the model provider, and its
  // client (@fal-ai/client) is a good part of a read's CPU when made per request.
  let built = pipeline;
  const s: Services = {
    ...base,
    get pipeline() {
      return (built ??= { provider: providerFor(base), storage: pipelineStorage });
    },
    // The outbox mailer writes through `db` and `now`, so it is built from the rest.
    mailer: mailer ?? createMailer(base),
  };
  return registerServices(s);
}
