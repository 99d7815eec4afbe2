/**
 * `GET /v1/incidents/{slug}`: a published post-mortem (public; the SPA shows
 * it at /incidents/<slug>). Unpublished or unknown slugs are the same 404.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { jsonResponse, notFound } from "../schemas/common";
import { incidentFacts, incidentFactsShape } from "../schemas/incidents";
import { publishedIncident } from "../services/incidents";

const PostMortem = z
  .object({
    ...incidentFactsShape,
    postMortem: z.string(),
    publishedAt: z.string(),
  })
  .openapi("PostMortem");

export const incidentRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/incidents/{slug}",
    operationId: "getIncidentsBySlug",
    ...anonymous(),
    tags: ["privacy"],
    summary: "A published incident post-mortem (public)",
    request: { params: z.object({ slug: z.string().max(100).openapi({ param: { name: "slug", in: "path" }, example: "2026-12-01-link-leak" }) }) },
    responses: { 200: jsonResponse("The post-mortem", PostMortem), ...notFound },
  }),
  async (c) => {
    const row = await publishedIncident(c.get("services"), c.req.valid("param").slug);
    if (!row || row.postMortem === null || row.publishedAt === null) throw new AppError("not_found", "No such published incident.");
    c.header("cache-control", "public, max-age=300");
    return c.json(
      {
        ...incidentFacts(row),
        postMortem: row.postMortem,
        publishedAt: new Date(row.publishedAt).toISOString(),
      },
      200,
    );
  },
);
