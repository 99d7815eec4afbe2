/**
 * A user's in-app notices (issue 16): why a picture was taken down, what of
 * theirs an incident touched, a legal demand they may be told about. The
 * app shows unread ones as a banner; reading them all marks them read.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { requireAuth } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { authErrors, bearerSecurity } from "../schemas/common";
import { listNotices, markNoticesRead } from "../services/operator";

const NoticeSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["takedown", "incident", "legal_demand"]),
    title: z.string(),
    body: z.string(),
    createdAt: z.string(),
    readAt: z.string().nullable(),
  })
  .openapi("Notice");

export const noticeRoutes = createRouter();
noticeRoutes.use("/me/notices", requireAuth({ scope: "account:read" }), rateLimit("read"));
noticeRoutes.use("/me/notices/read", requireAuth({ sessionOnly: true }), rateLimit("write"));

noticeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/notices",
    tags: ["account"],
    summary: "Notices from BabyPic to you, newest first (at most 50)",
    security: bearerSecurity,
    responses: { 200: { description: "Notices", content: { "application/json": { schema: z.object({ items: z.array(NoticeSchema) }) } } }, ...authErrors },
  }),
  async (c) => {
    const rows = await listNotices(c.get("services"), c.get("auth").userId);
    return c.json(
      { items: rows.map((n) => ({ id: n.id, kind: n.kind, title: n.title, body: n.body, createdAt: new Date(n.createdAt).toISOString(), readAt: n.readAt === null ? null : new Date(n.readAt).toISOString() })) },
      200,
    );
  },
);

noticeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/notices/read",
    tags: ["account"],
    summary: "Mark all your notices read",
    security: bearerSecurity,
    responses: { 204: { description: "Marked" }, ...authErrors },
  }),
  async (c) => {
    await markNoticesRead(c.get("services"), c.get("auth").userId);
    return c.body(null, 204);
  },
);
