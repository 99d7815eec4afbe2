import { createMiddleware } from "hono/factory";
import { errorName, logger } from "../lib/log";
import type { AppEnv } from "../app-env";
import { createServices } from "../services";

export const services = createMiddleware<AppEnv>(async (c, next) => {
  // Hono's executionCtx getter throws when the app runs without one (app.request in tests).
  let ctx: { waitUntil(task: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  const waitUntil = ctx
    ? (task: Promise<unknown>) =>
        ctx.waitUntil(
          task.catch((err: unknown) => {
            logger.error("background_task_failed", { requestId: c.get("requestId"), name: errorName(err) });
          }),
        )
    : undefined;
  c.set("services", createServices(c.env, waitUntil ? { waitUntil } : {}));
  await next();
});
