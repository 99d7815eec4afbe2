/**
 * Operators: every operator action, `/v1/admin/operator-log` (issue 16; who
 * may call it: worker/schemas/admin.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { LimitQuery, operatorErrors } from "../schemas/admin";
import { jsonResponse } from "../schemas/common";
import { listOperatorLog } from "../services/operator";
import { decodeKeysetCursor, keysetPage } from "../lib/cursor";

export const adminOperatorLogRoutes = createRouter();

const OperatorLogEntry = z
  .object({
    id: z.string(),
    at: z.string(),
    operatorId: z.string(),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }),
    userId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("OperatorLogEntry");

adminOperatorLogRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/operator-log",
    operationId: "getAdminOperatorLog",
    tags: ["admin"],
    summary: "Operators: every operator action, newest first",
    description: "Paged: follow `nextCursor` (as `cursor`) until it is null to see every entry, older support reads included.",
    ...authenticated({ operator: true, limit: "read" }),
    request: { query: LimitQuery.extend({ cursor: z.string().max(200).optional().openapi({ description: "`nextCursor` of the previous page." }) }) },
    responses: {
      200: jsonResponse("Entries", z.object({ items: z.array(OperatorLogEntry), nextCursor: z.string().nullable().openapi({ description: "null on the last page." }) })),
      ...operatorErrors,
    },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await listOperatorLog(c.get("services"), limit + 1, cursor ? decodeKeysetCursor(cursor, "opl") : null);
    const { page, nextCursor } = keysetPage(
      rows.map((r) => ({ ...r, createdAt: r.at })),
      limit,
    );
    return c.json(
      {
        nextCursor,
        items: page.map((r) => ({
          id: r.id,
          at: new Date(r.at).toISOString(),
          operatorId: r.operatorId,
          action: r.action,
          target: { type: r.targetType, id: r.targetId },
          userId: r.userId,
          detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
        })),
      },
      200,
    );
  },
);
