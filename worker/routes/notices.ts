/**
 * A user's in-app notices (issue 16): why a picture was taken down, what of
 * theirs an incident touched, a legal demand they may be told about. The
 * app shows unread ones as a banner; reading them all marks them read.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { authErrors } from "../schemas/common";
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

noticeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/notices",
    operationId: "getMeNotices",
    tags: ["account"],
    summary: "Notices from BabyPic to you, newest first (at most 50)",
    ...authenticated({ scope: "account:read", limit: "read" }),
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
    operationId: "postMeNoticesRead",
    tags: ["account"],
    summary: "Mark all your notices read",
    ...authenticated({ session: true, limit: "write" }),
    responses: { 204: { description: "Marked" }, ...authErrors },
  }),
  async (c) => {
    await markNoticesRead(c.get("services"), c.get("auth").userId);
    return c.body(null, 204);
  },
);
