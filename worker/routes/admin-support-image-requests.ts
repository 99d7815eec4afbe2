/**
 * Operators: picture requests of support sessions,
 * `/v1/admin/support-image-requests/...` (docs/decisions/0019-support-sessions.md;
 * who may call it: worker/schemas/admin.ts). An engineer asks in a session
 * (routes/admin-support-sessions.ts); the user allows or refuses in
 * routes/me.ts, or a second operator approves here.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { operatorErrors } from "../schemas/admin";
import { IdParams, jsonBody, jsonResponse, problem } from "../schemas/common";
import { ImageRequestSchema, presentRequest } from "../schemas/support-sessions";
import { approveByOperator, imageForRequest } from "../services/support-sessions";

export const adminSupportImageRequestRoutes = createRouter();

adminSupportImageRequestRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/support-image-requests/{id}/approve",
    operationId: "postAdminSupportImageRequestsByIdApprove",
    tags: ["admin"],
    summary: "Operators: approve another operator's picture request (two-person rule)",
    ...authenticated({ operator: true, limit: "write" }),
    request: { params: IdParams, body: jsonBody(z.object({ note: z.string().trim().min(5, "say why you approve (at least 5 characters)").max(500) })) },
    responses: {
      200: jsonResponse("Approved", ImageRequestSchema),
      ...operatorErrors,
      403: problem("An API key (`insufficient_scope`); or you made the request yourself (`forbidden`, two-person rule)."),
      409: problem("Already decided, or its session has ended or expired (`conflict`)."),
    },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await approveByOperator(s, auth, c.req.valid("param").id, c.req.valid("json").note, meta);
    return c.json(presentRequest(row), 200);
  },
);

adminSupportImageRequestRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/support-image-requests/{id}/images/{index}",
    operationId: "getAdminSupportImageRequestsByIdImagesByIndex",
    tags: ["admin"],
    summary: "Engineers: the bytes of one result picture of an approved request, inside the open session",
    description: "Only the engineer who asked, only once the user allowed it (or a second operator approved it), only while the session is open. Recorded in the user's activity log and the operator log.",
    ...authenticated({ operator: true, limit: "read" }),
    request: { params: IdParams.extend({ index: z.coerce.number().int().min(0).max(99).openapi({ param: { name: "index", in: "path" } }) }) },
    responses: {
      200: {
        description: "The picture",
        headers: { "X-Picture-Count": { schema: { type: "integer" }, description: "How many result pictures the generation has." } },
        content: {
          "image/jpeg": { schema: z.string().openapi({ format: "binary" }) },
          "image/png": { schema: z.string().openapi({ format: "binary" }) },
          "image/webp": { schema: z.string().openapi({ format: "binary" }) },
        },
      },
      ...operatorErrors,
      403: problem("An API key (`insufficient_scope`); or not an engineer, not the requester, not approved, or the session ended or expired (`forbidden`)."),
    },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const { id, index } = c.req.valid("param");
    const img = await imageForRequest(s, auth, id, index, meta);
    return c.body(img.bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": img.contentType,
      "cache-control": "no-store",
      "x-picture-count": String(img.count),
    });
  },
);
