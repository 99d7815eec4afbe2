/**
 * `POST /v1/generations/{id}/outputs/{objectId}/download-link`: a signed
 * `disposition=attachment` link to one result image, minted when the owner
 * asks to download it (docs/architecture.md). Generation reads carry `inline` links
 * for `<img>` tags; issuing an attachment link only on request keeps the
 * audit log saying "download link issued" exactly when someone downloaded.
 * The link itself is an ordinary `/v1/files` capability: at most one hour,
 * checked against D1 on every hit, dead once the image is deleted.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { objects } from "../db/schema";
import { requestMeta } from "../lib/request-meta";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { authErrors, badRequest, notFound } from "../schemas/common";
import { notFoundFor } from "../services/security-log";
import { issueSignedUrl } from "../services/signed-links";
import { idPattern } from "../lib/ids";

const Params = z.object({
  id: z
    .string()
    .regex(idPattern("gen"), "must be a generation id (gen_...)")
    .openapi({ param: { name: "id", in: "path" }, example: "gen_7c1e0d2b9a8f4e3d2c1b0a9f8e7d6c5b" }),
  objectId: z
    .string()
    .regex(idPattern("img"), "must be an output id (img_...)")
    .openapi({ param: { name: "objectId", in: "path" }, example: "img_9f86d081884c7d659a2feaa0c55ad015" }),
});

const DownloadLink = z
  .object({
    url: z
      .string()
      .openapi({ description: "Signed `/v1/files/...?disp=attachment` link; the response carries `Content-Disposition: attachment`." }),
    expiresAt: z.string().openapi({ format: "date-time", description: "At most one hour from now." }),
  })
  .openapi("DownloadLink");

export const generationDownloadRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/generations/{id}/outputs/{objectId}/download-link",
    tags: ["generations"],
    operationId: "createOutputDownloadLink",
    summary: "A signed download (attachment) link to one result image",
    description:
      "Mints a one-hour capability link that downloads the image as a file; audited as `link.issued` (attachment), and `file.downloaded` when fetched. " +
      "Needs scope `generations:read` with an API key.",
    ...authenticated({ scope: "generations:read", limit: "read" }),
    request: { params: Params },
    responses: {
      200: { description: "The link", content: { "application/json": { schema: DownloadLink } } },
      ...badRequest,
      ...authErrors,
      ...notFound,
    },
  }),
  async (c) => {
    const s = c.get("services");
    const auth = c.get("auth");
    const { id, objectId } = c.req.valid("param");
    const meta = requestMeta(c.req.raw, c.get("requestId"));
    // Owner, kind and generation in the one query: anyone else's id is the same 404 as a missing one.
    const row = await s.db
      .select({ id: objects.id })
      .from(objects)
      .where(and(eq(objects.id, objectId), eq(objects.userId, auth.userId), eq(objects.kind, "output"), eq(objects.generationId, id)))
      .get();
    if (!row) throw await notFoundFor(s, { table: "objects", id: objectId, userId: auth.userId, meta, path: c.req.path });
    const link = await issueSignedUrl(s, { auth, objectId: row.id, disposition: "attachment", meta });
    c.header("cache-control", "no-store");
    return c.json({ url: link.url, expiresAt: link.expiresAt }, 200);
  },
);
