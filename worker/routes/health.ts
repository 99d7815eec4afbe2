import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { jsonResponse } from "../schemas/common";

const HealthSchema = z
  .object({ status: z.literal("ok"), environment: z.string(), time: z.string() })
  .openapi("Health", { example: { status: "ok", environment: "production", time: "2026-11-27T06:00:00.000Z" } });

export const healthRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/health",
    operationId: "getHealth",
    ...anonymous(),
    tags: ["meta"],
    summary: "Liveness check",
    responses: { 200: jsonResponse("The API is up", HealthSchema) },
  }),
  (c) => c.json({ status: "ok" as const, environment: c.get("services").config.ENVIRONMENT, time: new Date().toISOString() }, 200),
);
