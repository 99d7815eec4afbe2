/**
 * The operator console's API (issue 16): `/v1/admin/...`, for the admin role
 * only. The role comes from server-side metadata (the session claim
 * `role: "admin"` set by Clerk's public metadata, or ADMIN_USER_IDS; see
 * worker/middleware/auth.ts), never from anything the user can set. Browser
 * sessions only: an API key never acts as an operator. Everyone else gets
 * 404 `not_found`, as for /v1/support. Every action is recorded in the
 * operator log and in the affected user's activity log (services/operator.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { createRouter } from "../lib/router";
import { requestMeta } from "../lib/request-meta";
import { requireAuth } from "../middleware/auth";
import { rateLimitByMethod } from "../middleware/rate-limit";
import { authErrors, badRequest, bearerSecurity, notFound, problem } from "../schemas/common";
import { AUDIT_ACTIONS } from "../services/audit";
import {
  declareIncident,
  incidentClock,
  listIncidents,
  markAuthorityNotified,
  notifyAffectedUsers,
  parseDataKinds,
  parseFinder,
  publishPostMortem,
  type IncidentRow,
} from "../services/incidents";
import { decideDemand, DECISIONS, DEMAND_TYPES, listDemands, producedOf, recordDemand, setNotification, type LegalDemandRow } from "../services/legal-demands";
import { listOperatorLog } from "../services/operator";
import { registerSupportSessionRoutes } from "./support-sessions";
import { listPrivacyRequests, REQUEST_STATUSES, REQUEST_TYPES, setPrivacyRequestStatus, takedown } from "../services/privacy-requests";
import { iso } from "../lib/iso";
import { idPattern } from "../lib/ids";
import { decodeKeysetCursor, keysetPage } from "../lib/cursor";

const operatorsOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("auth").isAdmin) throw new AppError("not_found", "No such route.");
  await next();
});

export const adminRoutes = createRouter();
// Reads count against the read limit, everything else against the write limit (issue 16 item 1 review).
adminRoutes.use("/admin/*", requireAuth({ sessionOnly: true }), operatorsOnly, rateLimitByMethod());
// Support sessions (item 1, decision 0019), behind the same rule.
registerSupportSessionRoutes(adminRoutes);

const IdParams = z.object({ id: z.string().max(100).openapi({ param: { name: "id", in: "path" } }) });
const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(100) });
const operatorErrors = { ...badRequest, ...authErrors, ...notFound } as const;
const Note = z.string().trim().min(5, "say what you did and why (at least 5 characters)").max(2000).openapi({ example: "Verified the requester by email reply." });

// ------------------------------------------------------------ privacy inbox

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

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/privacy-requests",
    tags: ["admin"],
    summary: "Operators: the privacy inbox (open requests first, soonest deadline first)",
    security: bearerSecurity,
    request: { query: LimitQuery },
    responses: { 200: { description: "Requests", content: { "application/json": { schema: z.object({ items: z.array(AdminPrivacyRequest) }) } } }, ...operatorErrors },
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

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/privacy-requests/{id}/status",
    tags: ["admin"],
    summary: "Operators: move a privacy request on; closing it erases the requester's email and message",
    security: bearerSecurity,
    request: {
      params: IdParams,
      body: { required: true, content: { "application/json": { schema: z.object({ status: z.enum(REQUEST_STATUSES).exclude(["received"]), note: Note }) } } },
    },
    responses: {
      200: { description: "Updated", content: { "application/json": { schema: z.object({ id: z.string(), status: z.enum(REQUEST_STATUSES) }) } } },
      ...operatorErrors,
      409: problem("The request is already closed (`conflict`)."),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { status, note } = c.req.valid("json");
    await setPrivacyRequestStatus(c.get("services"), c.get("auth"), id, status, note, requestMeta(c.req.raw, c.get("requestId")));
    return c.json({ id, status }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/privacy-requests/{id}/takedown",
    tags: ["admin"],
    summary: "Operators: a verified takedown deletes the named generation and tells its owner why",
    security: bearerSecurity,
    request: {
      params: IdParams,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({
              generationId: z
                .string()
                .regex(idPattern("gen"), "a generation id (gen_...)")
                .openapi({ example: "gen_0f9e8d7c6b5a49382716f5e4d3c2b1a0" }),
              note: Note.openapi({ description: "How the request was verified." }),
            }),
          },
        },
      },
    },
    responses: {
      200: {
        description: "Deleted and the owner notified",
        content: { "application/json": { schema: z.object({ receiptId: z.string(), ownerNotified: z.boolean(), mailed: z.boolean() }) } },
      },
      ...operatorErrors,
      409: problem("The request is closed, or is not a takedown (`conflict`)."),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { generationId, note } = c.req.valid("json");
    const r = await takedown(c.get("services"), c.get("auth"), id, generationId, note, requestMeta(c.req.raw, c.get("requestId")));
    return c.json({ receiptId: r.receipt.id, ownerNotified: r.ownerNotified, mailed: r.mailed }, 200);
  },
);

// ------------------------------------------------------------- operator log

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

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/operator-log",
    tags: ["admin"],
    summary: "Operators: every operator action, newest first",
    description: "Paged: follow `nextCursor` (as `cursor`) until it is null to see every entry, older support reads included.",
    security: bearerSecurity,
    request: { query: LimitQuery.extend({ cursor: z.string().max(200).optional().openapi({ description: "`nextCursor` of the previous page." }) }) },
    responses: {
      200: {
        description: "Entries",
        content: { "application/json": { schema: z.object({ items: z.array(OperatorLogEntry), nextCursor: z.string().nullable().openapi({ description: "null on the last page." }) }) } },
      },
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

// ---------------------------------------------------------------- incidents

const DateTime = z.iso.datetime({ offset: true }).openapi({ example: "2026-12-01T10:00:00Z" });
const IncidentSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    title: z.string(),
    summary: z.string(),
    awareAt: z.string(),
    windowStart: z.string(),
    windowEnd: z.string(),
    dataKinds: z.array(z.string()),
    finder: z.object({ actions: z.array(z.string()) }),
    clock: z.object({
      deadlineAt: z.string().openapi({ description: "awareAt + 72 hours (GDPR Art. 33(1))." }),
      running: z.boolean().openapi({ description: "false once the authority notification is recorded." }),
      remainingSeconds: z.number().int().openapi({ description: "Negative when overdue." }),
    }),
    affectedUsers: z.number().int().nullable(),
    authorityNotifiedAt: z.string().nullable(),
    usersNotifiedAt: z.string().nullable(),
    postMortem: z.string().nullable(),
    publishedAt: z.string().nullable(),
  })
  .openapi("AdminIncident");

function presentIncident(row: IncidentRow, now: number): z.infer<typeof IncidentSchema> {
  const clock = incidentClock(row, now);
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    awareAt: new Date(row.awareAt).toISOString(),
    windowStart: new Date(row.windowStart).toISOString(),
    windowEnd: new Date(row.windowEnd).toISOString(),
    dataKinds: parseDataKinds(row),
    finder: parseFinder(row),
    clock: { deadlineAt: new Date(clock.deadlineAt).toISOString(), running: clock.running, remainingSeconds: Math.round(clock.remainingMs / 1000) },
    affectedUsers: row.affectedUsers,
    authorityNotifiedAt: iso(row.authorityNotifiedAt),
    usersNotifiedAt: iso(row.usersNotifiedAt),
    postMortem: row.postMortem,
    publishedAt: iso(row.publishedAt),
  };
}

const IncidentAnswer = { content: { "application/json": { schema: IncidentSchema } } };

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/incidents",
    tags: ["admin"],
    summary: "Operators: incidents with their 72-hour clocks",
    security: bearerSecurity,
    responses: { 200: { description: "Incidents", content: { "application/json": { schema: z.object({ items: z.array(IncidentSchema) }) } } }, ...operatorErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const now = s.now();
    return c.json({ items: (await listIncidents(s)).map((r) => presentIncident(r, now)) }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents",
    tags: ["admin"],
    summary: "Operators: declare an incident (window, data kinds, how affected users are found)",
    security: bearerSecurity,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({
              title: z.string().trim().min(5).max(120),
              summary: z
                .string()
                .trim()
                .min(10)
                .max(2000)
                .openapi({ description: "One paragraph for the users' notice: what happened.", example: "A misconfigured proxy logged signed image links." }),
              awareAt: DateTime.optional().openapi({ description: "When we became aware; default now. The 72-hour clock starts here." }),
              windowStart: DateTime,
              windowEnd: DateTime,
              dataKinds: z.array(z.string().trim().min(2).max(100)).min(1).max(20),
              finder: z.object({
                actions: z
                  .array(z.enum(AUDIT_ACTIONS))
                  .min(1)
                  .openapi({ description: "Users with any of these audit actions inside the window are affected (e.g. `file.downloaded`, `link.used`)." }),
              }),
            }),
          },
        },
      },
    },
    responses: { 201: { description: "Declared", ...IncidentAnswer }, ...operatorErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const b = c.req.valid("json");
    const row = await declareIncident(
      s,
      c.get("auth"),
      {
        title: b.title,
        summary: b.summary,
        awareAt: b.awareAt ? Date.parse(b.awareAt) : s.now(),
        windowStart: Date.parse(b.windowStart),
        windowEnd: Date.parse(b.windowEnd),
        dataKinds: b.dataKinds,
        finder: b.finder,
      },
      requestMeta(c.req.raw, c.get("requestId")),
    );
    return c.json(presentIncident(row, s.now()), 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents/{id}/notify-users",
    tags: ["admin"],
    summary: "Operators: notify every affected user (in-app notice and mail saying what of theirs was accessed), once",
    security: bearerSecurity,
    request: { params: IdParams, body: { required: true, content: { "application/json": { schema: z.object({ confirm: z.literal(true) }) } } } },
    responses: {
      200: { description: "Notified", content: { "application/json": { schema: z.object({ notified: z.number().int(), mailed: z.number().int() }) } } },
      ...operatorErrors,
      409: problem("Already notified (`conflict`)."),
    },
  }),
  async (c) => {
    const r = await notifyAffectedUsers(c.get("services"), c.get("auth"), c.req.valid("param").id, requestMeta(c.req.raw, c.get("requestId")));
    return c.json(r, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents/{id}/authority-notified",
    tags: ["admin"],
    summary: "Operators: record that the supervisory authority was notified (stops the 72-hour clock)",
    security: bearerSecurity,
    request: { params: IdParams, body: { required: true, content: { "application/json": { schema: z.object({ note: Note }) } } } },
    responses: { 200: { description: "Recorded", ...IncidentAnswer }, ...operatorErrors, 409: problem("Already recorded (`conflict`).") },
  }),
  async (c) => {
    const s = c.get("services");
    const row = await markAuthorityNotified(s, c.get("auth"), c.req.valid("param").id, c.req.valid("json").note, requestMeta(c.req.raw, c.get("requestId")));
    return c.json(presentIncident(row, s.now()), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents/{id}/publish",
    tags: ["admin"],
    summary: "Operators: publish (or update) the post-mortem at /incidents/<slug>",
    security: bearerSecurity,
    request: { params: IdParams, body: { required: true, content: { "application/json": { schema: z.object({ postMortem: z.string().trim().min(20).max(20_000).openapi({ example: "What happened: a proxy logged links. What we changed: nothing logs URLs now." }) }) } } } },
    responses: { 200: { description: "Published", ...IncidentAnswer }, ...operatorErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const row = await publishPostMortem(s, c.get("auth"), c.req.valid("param").id, c.req.valid("json").postMortem, requestMeta(c.req.raw, c.get("requestId")));
    return c.json(presentIncident(row, s.now()), 200);
  },
);

// ------------------------------------------------------------ legal demands

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

const DemandAnswer = { content: { "application/json": { schema: LegalDemandSchema } } };

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/legal-demands",
    tags: ["admin"],
    summary: "Operators: legal demands, newest first",
    security: bearerSecurity,
    responses: { 200: { description: "Demands", content: { "application/json": { schema: z.object({ items: z.array(LegalDemandSchema) }) } } }, ...operatorErrors },
  }),
  async (c) => c.json({ items: (await listDemands(c.get("services"))).map(presentDemand) }, 200),
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/legal-demands",
    tags: ["admin"],
    summary: "Operators: record a legal demand (type, authority, legal basis, date received, the account concerned)",
    security: bearerSecurity,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({
              type: z.enum(DEMAND_TYPES),
              authority: z.string().trim().min(2).max(200),
              legalBasis: z.string().trim().min(2).max(500),
              receivedAt: z.iso.date().openapi({ example: "2026-12-01" }),
              userId: z.string().max(100).optional(),
            }),
          },
        },
      },
    },
    responses: { 201: { description: "Recorded", ...DemandAnswer }, ...operatorErrors },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const row = await recordDemand(
      c.get("services"),
      c.get("auth"),
      { type: b.type, authority: b.authority, legalBasis: b.legalBasis, receivedAt: Date.parse(`${b.receivedAt}T00:00:00Z`), userId: b.userId },
      requestMeta(c.req.raw, c.get("requestId")),
    );
    return c.json(presentDemand(row), 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/legal-demands/{id}/decision",
    tags: ["admin"],
    summary: "Operators: the review decision and exactly which data was produced",
    security: bearerSecurity,
    request: {
      params: IdParams,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({
              decision: z.enum(["rejected", "complied", "partially_complied"]),
              note: Note,
              producedData: z.array(z.string().trim().min(2).max(300)).max(50).openapi({ description: "Each item produced, e.g. `account creation date`; empty when rejected." }),
            }),
          },
        },
      },
    },
    responses: { 200: { description: "Decided", ...DemandAnswer }, ...operatorErrors, 409: problem("Already decided (`conflict`).") },
  }),
  async (c) => {
    const row = await decideDemand(c.get("services"), c.get("auth"), c.req.valid("param").id, c.req.valid("json"), requestMeta(c.req.raw, c.get("requestId")));
    return c.json(presentDemand(row), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/legal-demands/{id}/notification",
    tags: ["admin"],
    summary: "Operators: notify the user now, or defer with a reason and a review date",
    security: bearerSecurity,
    request: {
      params: IdParams,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.discriminatedUnion("status", [
              z.object({ status: z.literal("sent") }),
              z.object({ status: z.literal("deferred"), reason: z.string().trim().min(5).max(1000), reviewAt: z.iso.date() }),
            ]),
          },
        },
      },
    },
    responses: { 200: { description: "Recorded", ...DemandAnswer }, ...operatorErrors, 409: problem("No account to notify, or already notified (`conflict`).") },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const row = await setNotification(
      c.get("services"),
      c.get("auth"),
      c.req.valid("param").id,
      b.status === "sent" ? { status: "sent" } : { status: "deferred", reason: b.reason, reviewAt: Date.parse(`${b.reviewAt}T00:00:00Z`) },
      requestMeta(c.req.raw, c.get("requestId")),
    );
    return c.json(presentDemand(row), 200);
  },
);
