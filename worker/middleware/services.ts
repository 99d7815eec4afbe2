import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { createServices } from "../services";

export const services = createMiddleware<AppEnv>(async (c, next) => {
  c.set("services", createServices(c.env));
  await next();
});
