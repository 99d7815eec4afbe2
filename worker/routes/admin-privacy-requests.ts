/**
 * Operators: the privacy inbox, `/v1/admin/privacy-requests/...` (issue 16;
 * who may call it: worker/schemas/admin.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { LimitQuery, Note, operatorErrors } from "../schemas/admin";
import { IdParams, jsonBody, jsonResponse, problem } from "../schemas/common";
import { listPrivacyRequests, REQUEST_STATUSES, REQUEST_TYPES, setPrivacyRequestStatus, takedown } from "../services/privacy-requests";
import { iso } from "../lib/iso";
import { idPattern } from "../lib/ids";

export const adminPrivacyRequestRoutes = createRouter();

const RequestEvent = z.object({ at: z.string(), actor: z.string(), action: z.string(), note: z.string().nullable() });
const AdminPrivacyRequest = z
  .object({
    id: z.string(),
    type: z.enum(REQUEST_TYPES),
    status: z.enum(REQUEST_STATUSES),
    email: z.string().nullable().openapi({ description: "null once the request is closed (erased)." }),
    message: z.string().nullable(),
    subject: z.string().nullable(),
    userId: z.string().nullable(),
    createdAt: z.string(),
    dueAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    history: z.array(RequestEvent),
  })
  .openapi("AdminPrivacyRequest");

adminPrivacyRequestRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/privacy-requests",
    operationId: "getAdminPrivacyRequests",
    tags: ["admin"],
    summary: "Operators: the privacy inbox (open requests first, soonest deadline first)",
    ...authenticated({ operator: true, limit: "read" }),
    request: { query: LimitQuery },
    responses: { 200: jsonResponse("Requests", z.object({ items: z.array(AdminPrivacyRequest) })), ...operatorErrors },
  }),
  async (c) => {
    const rows = await listPrivacyRequests(c.get("services"), c.req.valid("query").limit);
    return c.json(
      {
        items: rows.map((r) => ({
          ...r,
          createdAt: new Date(r.createdAt).toISOString(),
          dueAt: iso(r.dueAt),
          closedAt: iso(r.closedAt),
          history: r.history.map((e) => ({ at: new Date(e.at).toISOString(), actor: e.actor, action: e.action, note: e.note })),
        })),
      },
      200,
    );
  },
);

adminPrivacyRequestRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/privacy-requests/{id}/status",
    operationId: "postAdminPrivacyRequestsByIdStatus",
    tags: ["admin"],
    summary: "Operators: move a privacy request on; closing it erases the requester's email and message",
    ...authenticated({ operator: true, limit: "write" }),
    request: { params: IdParams, body: jsonBody(z.object({ status: z.enum(REQUEST_STATUSES).exclude(["received"]), note: Note })) },
    responses: {
      200: jsonResponse("Updated", z.object({ id: z.string(), status: z.enum(REQUEST_STATUSES) })),
      ...operatorErrors,
      409: problem("The request is already closed (`conflict`)."),
    },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const { id } = c.req.valid("param");
    const { status, note } = c.req.valid("json");
    await setPrivacyRequestStatus(s, auth, id, status, note, meta);
    return c.json({ id, status }, 200);
  },
);

adminPrivacyRequestRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/privacy-requests/{id}/takedown",
    operationId: "postAdminPrivacyRequestsByIdTakedown",
    tags: ["admin"],
    summary: "Operators: a verified takedown deletes the named generation and tells its owner why",
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      params: IdParams,
      body: jsonBody(
        z.object({
          generationId: z
            .string()
            .regex(idPattern("gen"), "a generation id (gen_...)")
            .openapi({ example: "gen_0f9e8d7c6b5a49382716f5e4d3c2b1a0" }),
          note: Note.openapi({ description: "How the request was verified." }),
        }),
      ),
    },
    responses: {
      200: jsonResponse("Deleted and the owner notified", z.object({ receiptId: z.string(), ownerNotified: z.boolean(), mailed: z.boolean() })),
      ...operatorErrors,
      409: problem("The request is closed, or is not a takedown (`conflict`)."),
    },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const { id } = c.req.valid("param");
    const { generationId, note } = c.req.valid("json");
    const r = await takedown(s, auth, id, generationId, note, meta);
    return c.json({ receiptId: r.receipt.id, ownerNotified: r.ownerNotified, mailed: r.mailed }, 200);
  },
);
