/**
 * `GET /v1/transparency`: the transparency report, computed on every request
 * from the legal_demands rows (services/legal-demands.ts), never written by
 * hand: counts by year, type and outcome, accounts affected and users
 * notified or deferred. Public; the SPA shows it at /transparency.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { DECISIONS, DEMAND_TYPES, transparencyReport } from "../services/legal-demands";
import { jsonResponse } from "../schemas/common";

const counts = <T extends readonly [string, ...string[]]>(keys: T) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<T[number], z.ZodNumber>);

const Year = z.object({
  year: z.number().int(),
  total: z.number().int(),
  byType: counts(DEMAND_TYPES),
  byOutcome: counts(DECISIONS),
  counts: z.array(z.object({ type: z.enum(DEMAND_TYPES), outcome: z.enum(DECISIONS), count: z.number().int() })),
  accountsAffected: z.number().int(),
  usersNotified: z.number().int(),
  notificationsDeferred: z.number().int(),
});

const Report = z.object({ generatedAt: z.string(), years: z.array(Year) }).openapi("TransparencyReport");

export const transparencyRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/transparency",
    operationId: "getTransparency",
    ...anonymous(),
    tags: ["privacy"],
    summary: "Legal demands for user data, counted by year, type and outcome (public)",
    responses: { 200: jsonResponse("The report", Report) },
  }),
  async (c) => {
    const s = c.get("services");
    c.header("cache-control", "public, max-age=300");
    return c.json({ generatedAt: new Date(s.now()).toISOString(), years: await transparencyReport(s) }, 200);
  },
);
