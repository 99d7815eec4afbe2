import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { newId } from "../lib/ids";

/** Every request gets our own id (client-sent ids are not trusted). */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = newId("req");
  c.set("requestId", id);
  await next();
  c.res.headers.set("x-request-id", id);
});
