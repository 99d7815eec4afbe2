/**
 * Operators: support sessions, `/v1/admin/support-sessions/...` (issue 16
 * item 1, docs/decisions/0019-support-sessions.md; who may call it:
 * worker/schemas/admin.ts). Reads count against the read limit, everything
 * else against the write limit. Seeing a picture also needs the engineer role
 * (routes/admin-support-image-requests.ts); the user's side is `/me/support-*`
 * in routes/me.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { operatorErrors } from "../schemas/admin";
import { IdParams, jsonBody, jsonResponse, problem } from "../schemas/common";
import { ImageRequestSchema, presentRequest, presentSession, Reason, SessionSchema } from "../schemas/support-sessions";
import { findUser, generationStates, userSummary } from "../services/support";
import {
  DEFAULT_SESSION_MINUTES,
  endSessionByOperator,
  listOpenSessions,
  MAX_SESSION_MINUTES,
  openSession,
  ownOpenSession,
  recordFactsRead,
  requestImages,
  requestsOf,
} from "../services/support-sessions";

export const adminSupportSessionRoutes = createRouter();

const closedOrNotYours = problem(
  "An API key (`insufficient_scope`); or the session was opened by another operator, has ended or expired (`forbidden`).",
);

adminSupportSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/support-sessions",
    operationId: "postAdminSupportSessions",
    tags: ["admin"],
    summary: "Operators: open a time-boxed support session on one account",
    description: `Default ${DEFAULT_SESSION_MINUTES} minutes, at most ${MAX_SESSION_MINUTES}. The user sees it at once in their activity log and in a banner, and may end it.`,
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      body: jsonBody(
        z.object({
          userId: z.string().max(100).openapi({ example: "usr_9f86d081884c7d659a2feaa0c55ad015" }),
          reason: Reason,
          ticket: z.string().trim().min(1, "give the ticket reference").max(100).openapi({ example: "T-4411" }),
          minutes: z.number().int().min(5).max(MAX_SESSION_MINUTES).default(DEFAULT_SESSION_MINUTES),
        }),
      ),
    },
    responses: { 201: jsonResponse("Opened", SessionSchema), ...operatorErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await openSession(s, auth, c.req.valid("json"), meta);
    return c.json(presentSession(row), 201);
  },
);

adminSupportSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/support-sessions",
    operationId: "getAdminSupportSessions",
    tags: ["admin"],
    summary: "Operators: open support sessions and their picture requests (pending ones await a second operator)",
    ...authenticated({ operator: true, limit: "read" }),
    responses: {
      200: jsonResponse("Open sessions, newest first", z.object({ items: z.array(SessionSchema.extend({ requests: z.array(ImageRequestSchema) })) })),
      ...operatorErrors,
    },
  }),
  async (c) => {
    const s = c.get("services");
    const sessions = await listOpenSessions(s);
    const reqs = await requestsOf(
      s,
      sessions.map((x) => x.id),
    );
    return c.json({ items: sessions.map((x) => ({ ...presentSession(x), requests: reqs.filter((q) => q.sessionId === x.id).map(presentRequest) })) }, 200);
  },
);

const Facts = z
  .object({
    session: SessionSchema,
    account: z.object({
      id: z.string(),
      createdAt: z.string(),
      credits: z.number().int(),
      counts: z.object({ photos: z.number().int(), outputs: z.number().int(), generations: z.record(z.string(), z.number().int()) }),
    }),
    generations: z.array(
      z.object({
        id: z.string(),
        status: z.string(),
        stage: z.string(),
        errorCode: z.string().nullable(),
        attempts: z.number().int(),
        createdAt: z.string(),
        completedAt: z.string().nullable(),
        outputs: z.number().int(),
      }),
    ),
  })
  .openapi("SupportSessionFacts");

adminSupportSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/support-sessions/{id}/facts",
    operationId: "getAdminSupportSessionsByIdFacts",
    tags: ["admin"],
    summary: "Operators: the account's facts (credits, generations, errors; never photos or results), inside your open session only",
    ...authenticated({ operator: true, limit: "read" }),
    request: { params: IdParams },
    responses: { 200: jsonResponse("Facts", Facts), ...operatorErrors, 403: closedOrNotYours },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const session = await ownOpenSession(s, auth, c.req.valid("param").id);
    const user = await findUser(s, session.userId);
    if (!user) throw new AppError("not_found", "The account no longer exists.");
    const [summary, gens] = await Promise.all([userSummary(s, user), generationStates(s, user.id, 50)]);
    await recordFactsRead(s, auth, session, "your account facts (credits, generations and errors)", meta);
    return c.json(
      {
        session: presentSession(session),
        account: {
          id: summary.id,
          createdAt: summary.createdAt,
          credits: summary.credits,
          counts: { photos: summary.counts.photos, outputs: summary.counts.outputs, generations: summary.counts.generations },
        },
        generations: gens.map((g) => ({
          id: g.id,
          status: g.status,
          stage: g.stage,
          errorCode: g.errorCode,
          attempts: g.attempts,
          createdAt: g.createdAt,
          completedAt: g.completedAt,
          outputs: g.outputs,
        })),
      },
      200,
    );
  },
);

adminSupportSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/support-sessions/{id}/end",
    operationId: "postAdminSupportSessionsByIdEnd",
    tags: ["admin"],
    summary: "Operators: end a support session now",
    ...authenticated({ operator: true, limit: "write" }),
    request: { params: IdParams },
    responses: { 200: jsonResponse("Ended", SessionSchema), ...operatorErrors, 409: problem("The session has already ended or expired (`conflict`).") },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await endSessionByOperator(s, auth, c.req.valid("param").id, meta);
    return c.json(presentSession(row), 200);
  },
);

adminSupportSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/support-sessions/{id}/image-requests",
    operationId: "postAdminSupportSessionsByIdImageRequests",
    tags: ["admin"],
    summary: "Engineers: ask to see one generation's pictures; needs the user's grant or a second operator's approval",
    ...authenticated({ operator: true, limit: "write" }),
    request: {
      params: IdParams,
      body: jsonBody(
        z.object({
          generationId: z.string().regex(/^gen_[0-9a-f]{32}$/, "a generation id (gen_...)").openapi({ example: "gen_0f9e8d7c6b5a49382716f5e4d3c2b1a0" }),
          reason: Reason,
        }),
      ),
    },
    responses: {
      201: jsonResponse("Requested (pending, or approved at once by the user's open window)", ImageRequestSchema),
      ...operatorErrors,
      403: problem("An API key (`insufficient_scope`); not an engineer, or the session is not yours or no longer open (`forbidden`)."),
    },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await requestImages(s, auth, c.req.valid("param").id, c.req.valid("json"), meta);
    return c.json(presentRequest(row), 201);
  },
);
