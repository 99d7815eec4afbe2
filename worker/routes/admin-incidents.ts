/**
 * Operators: incidents and their 72-hour clocks, `/v1/admin/incidents/...`
 * (issue 16; who may call it: worker/schemas/admin.ts). A published
 * post-mortem is read publicly at `/v1/incidents/{slug}` (routes/incidents.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { Note, operatorErrors } from "../schemas/admin";
import { incidentFacts, incidentFactsShape } from "../schemas/incidents";
import { IdParams, jsonBody, jsonResponse, problem } from "../schemas/common";
import { AUDIT_ACTIONS } from "../services/audit";
import {
  declareIncident,
  incidentClock,
  listIncidents,
  markAuthorityNotified,
  notifyAffectedUsers,
  parseFinder,
  publishPostMortem,
  type IncidentRow,
} from "../services/incidents";
import { iso } from "../lib/iso";

export const adminIncidentRoutes = createRouter();

const DateTime = z.iso.datetime({ offset: true }).openapi({ example: "2026-12-01T10:00:00Z" });
const IncidentSchema = z
  .object({
    id: z.string(),
    ...incidentFactsShape,
    finder: z.object({ actions: z.array(z.string()) }),
    clock: z.object({
      deadlineAt: z.string().openapi({ description: "awareAt + 72 hours (GDPR Art. 33(1))." }),
      running: z.boolean().openapi({ description: "false once the authority notification is recorded." }),
      remainingSeconds: z.number().int().openapi({ description: "Negative when overdue." }),
    }),
    postMortem: z.string().nullable(),
    publishedAt: z.string().nullable(),
  })
  .openapi("AdminIncident");

function presentIncident(row: IncidentRow, now: number): z.infer<typeof IncidentSchema> {
  const clock = incidentClock(row, now);
  return {
    id: row.id,
    ...incidentFacts(row),
    finder: parseFinder(row),
    clock: { deadlineAt: new Date(clock.deadlineAt).toISOString(), running: clock.running, remainingSeconds: Math.round(clock.remainingMs / 1000) },
    postMortem: row.postMortem,
    publishedAt: iso(row.publishedAt),
  };
}

adminIncidentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/incidents",
    operationId: "getAdminIncidents",
    tags: ["admin"],
    summary: "Operators: incidents with their 72-hour clocks",
    ...authenticated({ operator: true, limit: "read" }),
    responses: { 200: jsonResponse("Incidents", z.object({ items: z.array(IncidentSchema) })), ...operatorErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const now = s.now();
    return c.json({ items: (await listIncidents(s)).map((r) => presentIncident(r, now)) }, 200);
  },
);

adminIncidentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents",
    operationId: "postAdminIncidents",
    tags: ["admin"],
    summary: "Operators: declare an incident (window, data kinds, how affected users are found)",
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      body: jsonBody(
        z.object({
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
      ),
    },
    responses: { 201: jsonResponse("Declared", IncidentSchema), ...operatorErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const b = c.req.valid("json");
    const row = await declareIncident(
      s,
      auth,
      {
        title: b.title,
        summary: b.summary,
        awareAt: b.awareAt ? Date.parse(b.awareAt) : s.now(),
        windowStart: Date.parse(b.windowStart),
        windowEnd: Date.parse(b.windowEnd),
        dataKinds: b.dataKinds,
        finder: b.finder,
      },
      meta,
    );
    return c.json(presentIncident(row, s.now()), 201);
  },
);

adminIncidentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents/{id}/notify-users",
    operationId: "postAdminIncidentsByIdNotifyUsers",
    tags: ["admin"],
    summary: "Operators: notify every affected user (in-app notice and mail saying what of theirs was accessed), once",
    ...authenticated({ operator: true, limit: "write" }),
    request: { params: IdParams, body: jsonBody(z.object({ confirm: z.literal(true) })) },
    responses: {
      200: jsonResponse("Notified", z.object({ notified: z.number().int(), mailed: z.number().int() })),
      ...operatorErrors,
      409: problem("Already notified (`conflict`)."),
    },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    return c.json(await notifyAffectedUsers(s, auth, c.req.valid("param").id, meta), 200);
  },
);

adminIncidentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents/{id}/authority-notified",
    operationId: "postAdminIncidentsByIdAuthorityNotified",
    tags: ["admin"],
    summary: "Operators: record that the supervisory authority was notified (stops the 72-hour clock)",
    ...authenticated({ operator: true, limit: "write" }),
    request: { params: IdParams, body: jsonBody(z.object({ note: Note })) },
    responses: { 200: jsonResponse("Recorded", IncidentSchema), ...operatorErrors, 409: problem("Already recorded (`conflict`).") },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await markAuthorityNotified(s, auth, c.req.valid("param").id, c.req.valid("json").note, meta);
    return c.json(presentIncident(row, s.now()), 200);
  },
);

adminIncidentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/incidents/{id}/publish",
    operationId: "postAdminIncidentsByIdPublish",
    tags: ["admin"],
    summary: "Operators: publish (or update) the post-mortem at /incidents/<slug>",
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      params: IdParams,
      body: jsonBody(
        z.object({ postMortem: z.string().trim().min(20).max(20_000).openapi({ example: "What happened: a proxy logged links. What we changed: nothing logs URLs now." }) }),
      ),
    },
    responses: { 200: jsonResponse("Published", IncidentSchema), ...operatorErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await publishPostMortem(s, auth, c.req.valid("param").id, c.req.valid("json").postMortem, meta);
    return c.json(presentIncident(row, s.now()), 200);
  },
);
