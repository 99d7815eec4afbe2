import { createMiddleware } from "hono/factory";
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
            console.error(JSON.stringify({ level: "error", event: "background_task_failed", requestId: c.get("requestId"), name: err instanceof Error ? err.name : "unknown" }));
          }),
        )
    : undefined;
  c.set("services", createServices(c.env, waitUntil ? { waitUntil } : {}));
  await next();
});
