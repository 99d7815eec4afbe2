/**
 * Support sessions (issue 16 item 1, docs/decisions/0019-support-sessions.md).
 *
 * Operator side, `/v1/admin/support-sessions...` and
 * `/v1/admin/support-image-requests...`: registered on the admin router by
 * registerSupportSessionRoutes, so they sit behind its rule (browser session
 * with the admin role from server-side metadata; API keys 403/401; anyone else
 * 404). Seeing a picture also needs the engineer role.
 *
 * User side, `/v1/me/support-sessions...`: the banner lists open sessions and
 * picture requests; the user ends a session and allows or refuses a request.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { createRouter } from "../lib/router";
import { requestMeta } from "../lib/request-meta";
import { requireAuth, requireStepUpFor } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { authErrors, badRequest, bearerSecurity, notFound, problem, stepUpErrors } from "../schemas/common";
import { findUser, generationStates, userSummary } from "../services/support";
import {
  approveByOperator,
  DEFAULT_SESSION_MINUTES,
  decideByUser,
  endSessionByOperator,
  endSessionByUser,
  imageForRequest,
  listOpenSessions,
  MAX_SESSION_MINUTES,
  openSession,
  openSessionsFor,
  ownOpenSession,
  recordFactsRead,
  requestImages,
  requestsOf,
  type ImageRequestRow,
  type SupportSessionRow,
} from "../services/support-sessions";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const IdParams = z.object({ id: z.string().max(100).openapi({ param: { name: "id", in: "path" } }) });
const Reason = z
  .string()
  .trim()
  .min(10, "state why you need access (at least 10 characters)")
  .max(500)
  .openapi({ example: "User reports a generation stuck in queued" });

const SessionSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    operatorId: z.string(),
    reason: z.string(),
    ticket: z.string(),
    openedAt: z.string(),
    expiresAt: z.string(),
    endedAt: z.string().nullable(),
    endedBy: z.enum(["operator", "user"]).nullable(),
  })
  .openapi("SupportSession");

const ImageRequestSchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    userId: z.string(),
    generationId: z.string(),
    requestedBy: z.string(),
    reason: z.string(),
    createdAt: z.string(),
    status: z.enum(["pending", "approved", "refused", "withdrawn"]).openapi({ description: "`withdrawn`: allowed by the user's Settings window, which has since closed." }),
    decidedVia: z.enum(["user", "user_window", "operator"]).nullable(),
    decidedAt: z.string().nullable(),
  })
  .openapi("SupportImageRequest");

function presentSession(r: SupportSessionRow): z.infer<typeof SessionSchema> {
  return { ...r, openedAt: new Date(r.openedAt).toISOString(), expiresAt: new Date(r.expiresAt).toISOString(), endedAt: iso(r.endedAt) };
}

function presentRequest(r: ImageRequestRow): z.infer<typeof ImageRequestSchema> {
  return {
    id: r.id,
    sessionId: r.sessionId,
    userId: r.userId,
    generationId: r.generationId,
    requestedBy: r.requestedBy,
    reason: r.reason,
    createdAt: new Date(r.createdAt).toISOString(),
    status: r.status,
    decidedVia: r.decidedVia,
    decidedAt: iso(r.decidedAt),
  };
}

const operatorErrors = { ...badRequest, ...authErrors, ...notFound } as const;
const closedOrNotYours = problem(
  "An API key (`insufficient_scope`); or the session was opened by another operator, has ended or expired (`forbidden`).",
);

/** Registered on the admin router, after its operators-only middleware. */
export function registerSupportSessionRoutes(r: OpenAPIHono<AppEnv>): void {
  r.openapi(
    createRoute({
      method: "post",
      path: "/admin/support-sessions",
      tags: ["admin"],
      summary: "Operators: open a time-boxed support session on one account",
      description: `Default ${DEFAULT_SESSION_MINUTES} minutes, at most ${MAX_SESSION_MINUTES}. The user sees it at once in their activity log and in a banner, and may end it.`,
      security: bearerSecurity,
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({
                userId: z.string().max(100).openapi({ example: "usr_9f86d081884c7d659a2feaa0c55ad015" }),
                reason: Reason,
                ticket: z.string().trim().min(1, "give the ticket reference").max(100).openapi({ example: "T-4411" }),
                minutes: z.number().int().min(5).max(MAX_SESSION_MINUTES).default(DEFAULT_SESSION_MINUTES),
              }),
            },
          },
        },
      },
      responses: {
        201: { description: "Opened", content: { "application/json": { schema: SessionSchema } } },
        ...operatorErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const row = await openSession(c.get("services"), c.get("auth"), body, requestMeta(c.req.raw, c.get("requestId")));
      return c.json(presentSession(row), 201);
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/admin/support-sessions",
      tags: ["admin"],
      summary: "Operators: open support sessions and their picture requests (pending ones await a second operator)",
      security: bearerSecurity,
      responses: {
        200: {
          description: "Open sessions, newest first",
          content: { "application/json": { schema: z.object({ items: z.array(SessionSchema.extend({ requests: z.array(ImageRequestSchema) })) }) } },
        },
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

  r.openapi(
    createRoute({
      method: "get",
      path: "/admin/support-sessions/{id}/facts",
      tags: ["admin"],
      summary: "Operators: the account's facts (credits, generations, errors; never photos or results), inside your open session only",
      security: bearerSecurity,
      request: { params: IdParams },
      responses: {
        200: { description: "Facts", content: { "application/json": { schema: Facts } } },
        ...operatorErrors,
        403: closedOrNotYours,
      },
    }),
    async (c) => {
      const s = c.get("services");
      const session = await ownOpenSession(s, c.get("auth"), c.req.valid("param").id);
      const user = await findUser(s, session.userId);
      if (!user) throw new AppError("not_found", "The account no longer exists.");
      const [summary, gens] = await Promise.all([userSummary(s, user), generationStates(s, user.id, 50)]);
      await recordFactsRead(s, c.get("auth"), session, "your account facts (credits, generations and errors)", requestMeta(c.req.raw, c.get("requestId")));
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

  r.openapi(
    createRoute({
      method: "post",
      path: "/admin/support-sessions/{id}/end",
      tags: ["admin"],
      summary: "Operators: end a support session now",
      security: bearerSecurity,
      request: { params: IdParams },
      responses: {
        200: { description: "Ended", content: { "application/json": { schema: SessionSchema } } },
        ...operatorErrors,
        409: problem("The session has already ended or expired (`conflict`)."),
      },
    }),
    async (c) => {
      const row = await endSessionByOperator(c.get("services"), c.get("auth"), c.req.valid("param").id, requestMeta(c.req.raw, c.get("requestId")));
      return c.json(presentSession(row), 200);
    },
  );

  r.openapi(
    createRoute({
      method: "post",
      path: "/admin/support-sessions/{id}/image-requests",
      tags: ["admin"],
      summary: "Engineers: ask to see one generation's pictures; needs the user's grant or a second operator's approval",
      security: bearerSecurity,
      request: {
        params: IdParams,
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({
                generationId: z.string().regex(/^gen_[0-9a-f]{32}$/, "a generation id (gen_...)").openapi({ example: "gen_0f9e8d7c6b5a49382716f5e4d3c2b1a0" }),
                reason: Reason,
              }),
            },
          },
        },
      },
      responses: {
        201: { description: "Requested (pending, or approved at once by the user's open window)", content: { "application/json": { schema: ImageRequestSchema } } },
        ...operatorErrors,
        403: problem("An API key (`insufficient_scope`); not an engineer, or the session is not yours or no longer open (`forbidden`)."),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await requestImages(c.get("services"), c.get("auth"), id, c.req.valid("json"), requestMeta(c.req.raw, c.get("requestId")));
      return c.json(presentRequest(row), 201);
    },
  );

  r.openapi(
    createRoute({
      method: "post",
      path: "/admin/support-image-requests/{id}/approve",
      tags: ["admin"],
      summary: "Operators: approve another operator's picture request (two-person rule)",
      security: bearerSecurity,
      request: {
        params: IdParams,
        body: { required: true, content: { "application/json": { schema: z.object({ note: z.string().trim().min(5, "say why you approve (at least 5 characters)").max(500) }) } } },
      },
      responses: {
        200: { description: "Approved", content: { "application/json": { schema: ImageRequestSchema } } },
        ...operatorErrors,
        403: problem("An API key (`insufficient_scope`); or you made the request yourself (`forbidden`, two-person rule)."),
        409: problem("Already decided, or its session has ended or expired (`conflict`)."),
      },
    }),
    async (c) => {
      const row = await approveByOperator(c.get("services"), c.get("auth"), c.req.valid("param").id, c.req.valid("json").note, requestMeta(c.req.raw, c.get("requestId")));
      return c.json(presentRequest(row), 200);
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: "/admin/support-image-requests/{id}/images/{index}",
      tags: ["admin"],
      summary: "Engineers: the bytes of one result picture of an approved request, inside the open session",
      description: "Only the engineer who asked, only once the user allowed it (or a second operator approved it), only while the session is open. Recorded in the user's activity log and the operator log.",
      security: bearerSecurity,
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
      const { id, index } = c.req.valid("param");
      const img = await imageForRequest(c.get("services"), c.get("auth"), id, index, requestMeta(c.req.raw, c.get("requestId")));
      return c.body(img.bytes as Uint8Array<ArrayBuffer>, 200, {
        "content-type": img.contentType,
        "cache-control": "no-store",
        "x-picture-count": String(img.count),
      });
    },
  );
}

/** The user's side. */
export const mySupportSessionRoutes = createRouter();
mySupportSessionRoutes.use("/me/support-sessions", requireAuth({ sessionOnly: true }), rateLimit("read"));
mySupportSessionRoutes.use("/me/support-sessions/*", requireAuth({ sessionOnly: true }), rateLimit("write"));
mySupportSessionRoutes.use("/me/support-image-requests/*", requireAuth({ sessionOnly: true }), rateLimit("write"));

const MySession = z
  .object({
    id: z.string(),
    reason: z.string(),
    ticket: z.string(),
    openedAt: z.string(),
    expiresAt: z.string(),
    requests: z.array(ImageRequestSchema),
  })
  .openapi("MySupportSession");

const userErrors = { ...authErrors, ...notFound } as const;

mySupportSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/support-sessions",
    tags: ["account"],
    summary: "Support sessions open on your account now, with their picture requests",
    security: bearerSecurity,
    responses: { 200: { description: "Open sessions", content: { "application/json": { schema: z.object({ items: z.array(MySession) }) } } }, ...authErrors },
  }),
  async (c) => {
    const found = await openSessionsFor(c.get("services"), c.get("auth").userId);
    return c.json(
      {
        items: found.map(({ session, requests }) => ({
          id: session.id,
          reason: session.reason,
          ticket: session.ticket,
          openedAt: new Date(session.openedAt).toISOString(),
          expiresAt: new Date(session.expiresAt).toISOString(),
          requests: requests.map(presentRequest),
        })),
      },
      200,
    );
  },
);

mySupportSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/support-sessions/{id}/end",
    tags: ["account"],
    summary: "End a support session on your account now",
    security: bearerSecurity,
    request: { params: IdParams },
    responses: {
      200: { description: "Ended", content: { "application/json": { schema: z.object({ id: z.string(), endedAt: z.string() }) } } },
      ...userErrors,
      409: problem("Already ended or expired (`conflict`)."),
    },
  }),
  async (c) => {
    const row = await endSessionByUser(c.get("services"), c.get("auth").userId, c.req.valid("param").id, requestMeta(c.req.raw, c.get("requestId")));
    return c.json({ id: row.id, endedAt: new Date(row.endedAt ?? Date.now()).toISOString() }, 200);
  },
);

for (const decision of ["allow", "refuse"] as const) {
  mySupportSessionRoutes.openapi(
    createRoute({
      method: "post",
      path: `/me/support-image-requests/{id}/${decision}`,
      tags: ["account"],
      summary:
        decision === "allow"
          ? "Let the engineer who asked see the pictures of this one generation, until the session ends"
          : "Refuse a support request to see the pictures of a generation",
      description: decision === "allow" ? "Browser sessions only, with a sign-in check within the last 10 minutes." : undefined,
      security: bearerSecurity,
      request: { params: IdParams },
      responses: {
        200: { description: "Decided", content: { "application/json": { schema: ImageRequestSchema } } },
        ...userErrors,
        ...(decision === "allow" ? stepUpErrors : {}),
        409: problem("Already decided, or the session has ended or expired (`conflict`)."),
      },
    }),
    async (c) => {
      if (decision === "allow") requireStepUpFor(c);
      const row = await decideByUser(c.get("services"), c.get("auth").userId, c.req.valid("param").id, decision === "allow", requestMeta(c.req.raw, c.get("requestId")));
      return c.json(presentRequest(row), 200);
    },
  );
}
