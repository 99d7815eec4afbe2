/**
 * Operators: legal demands, `/v1/admin/legal-demands/...` (issue 16; who may
 * call it: worker/schemas/admin.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { Note, operatorErrors } from "../schemas/admin";
import { IdParams, jsonBody, jsonResponse, problem } from "../schemas/common";
import { decideDemand, DECISIONS, DEMAND_TYPES, listDemands, producedOf, recordDemand, setNotification, type LegalDemandRow } from "../services/legal-demands";
import { iso } from "../lib/iso";

export const adminLegalDemandRoutes = createRouter();

const LegalDemandSchema = z
  .object({
    id: z.string(),
    type: z.enum(DEMAND_TYPES),
    authority: z.string(),
    legalBasis: z.string(),
    receivedAt: z.string(),
    userId: z.string().nullable(),
    decision: z.enum(DECISIONS),
    decisionNote: z.string().nullable(),
    decidedAt: z.string().nullable(),
    producedData: z.array(z.string()),
    notification: z.enum(["pending", "sent", "deferred", "not_applicable"]),
    deferReason: z.string().nullable(),
    deferReviewAt: z.string().nullable(),
    notifiedAt: z.string().nullable(),
  })
  .openapi("LegalDemand");

function presentDemand(r: LegalDemandRow): z.infer<typeof LegalDemandSchema> {
  return {
    id: r.id,
    type: r.type,
    authority: r.authority,
    legalBasis: r.legalBasis,
    receivedAt: new Date(r.receivedAt).toISOString(),
    userId: r.userId,
    decision: r.decision,
    decisionNote: r.decisionNote,
    decidedAt: iso(r.decidedAt),
    producedData: producedOf(r),
    notification: r.notification,
    deferReason: r.deferReason,
    deferReviewAt: iso(r.deferReviewAt),
    notifiedAt: iso(r.notifiedAt),
  };
}

adminLegalDemandRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/legal-demands",
    operationId: "getAdminLegalDemands",
    tags: ["admin"],
    summary: "Operators: legal demands, newest first",
    ...authenticated({ operator: true, limit: "read" }),
    responses: { 200: jsonResponse("Demands", z.object({ items: z.array(LegalDemandSchema) })), ...operatorErrors },
  }),
  async (c) => c.json({ items: (await listDemands(c.get("services"))).map(presentDemand) }, 200),
);

adminLegalDemandRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/legal-demands",
    operationId: "postAdminLegalDemands",
    tags: ["admin"],
    summary: "Operators: record a legal demand (type, authority, legal basis, date received, the account concerned)",
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      body: jsonBody(
        z.object({
          type: z.enum(DEMAND_TYPES),
          authority: z.string().trim().min(2).max(200),
          legalBasis: z.string().trim().min(2).max(500),
          receivedAt: z.iso.date().openapi({ example: "2026-12-01" }),
          userId: z.string().max(100).optional(),
        }),
      ),
    },
    responses: { 201: jsonResponse("Recorded", LegalDemandSchema), ...operatorErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const b = c.req.valid("json");
    const row = await recordDemand(
      s,
      auth,
      { type: b.type, authority: b.authority, legalBasis: b.legalBasis, receivedAt: Date.parse(`${b.receivedAt}T00:00:00Z`), userId: b.userId },
      meta,
    );
    return c.json(presentDemand(row), 201);
  },
);

adminLegalDemandRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/legal-demands/{id}/decision",
    operationId: "postAdminLegalDemandsByIdDecision",
    tags: ["admin"],
    summary: "Operators: the review decision and exactly which data was produced",
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      params: IdParams,
      body: jsonBody(
        z.object({
          decision: z.enum(["rejected", "complied", "partially_complied"]),
          note: Note,
          producedData: z.array(z.string().trim().min(2).max(300)).max(50).openapi({ description: "Each item produced, e.g. `account creation date`; empty when rejected." }),
        }),
      ),
    },
    responses: { 200: jsonResponse("Decided", LegalDemandSchema), ...operatorErrors, 409: problem("Already decided (`conflict`).") },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await decideDemand(s, auth, c.req.valid("param").id, c.req.valid("json"), meta);
    return c.json(presentDemand(row), 200);
  },
);

adminLegalDemandRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/legal-demands/{id}/notification",
    operationId: "postAdminLegalDemandsByIdNotification",
    tags: ["admin"],
    summary: "Operators: notify the user now, or defer with a reason and a review date",
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      params: IdParams,
      body: jsonBody(
        z.discriminatedUnion("status", [
          z.object({ status: z.literal("sent") }),
          z.object({ status: z.literal("deferred"), reason: z.string().trim().min(5).max(1000), reviewAt: z.iso.date() }),
        ]),
      ),
    },
    responses: { 200: jsonResponse("Recorded", LegalDemandSchema), ...operatorErrors, 409: problem("No account to notify, or already notified (`conflict`).") },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const b = c.req.valid("json");
    const row = await setNotification(
      s,
      auth,
      c.req.valid("param").id,
      b.status === "sent" ? { status: "sent" } : { status: "deferred", reason: b.reason, reviewAt: Date.parse(`${b.reviewAt}T00:00:00Z`) },
      meta,
    );
    return c.json(presentDemand(row), 200);
  },
);
