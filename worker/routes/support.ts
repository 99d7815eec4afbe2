/**
 * Support access (docs/architecture.md).
 *
 * `/v1/support/...` is for staff with the admin role (Clerk session claim
 * `role: "admin"` or `metadata.role`, or ADMIN_USER_IDS). Everyone else gets
 * 404 `not_found`, so the family does not advertise itself and a probe looks
 * like any unknown route. Browser sessions only: an API key never acts as
 * staff. Each call needs `X-Support-Reason` (10..500 chars) and is appended
 * to the affected user's audit log with that reason. The account reads need
 * an open support session by the caller on that account (decision 0019);
 * photos and results are never served here, only through a support
 * session's picture request (routes/admin-support-sessions.ts,
 * routes/admin-support-image-requests.ts). The user's side, the support
 * access window and the sessions on their account, is `/me/support-*` in
 * routes/me.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import type { RequestMeta } from "../lib/request-meta";
import type { Services } from "../services";
import { authenticated } from "../middleware/auth";
import { jsonResponse, ownedErrors, problem } from "../schemas/common";
import { findUser, generationStates, recordSupportAccess, userSummary } from "../services/support";
import { hasOpenSession } from "../services/support-sessions";
import { recordOperatorLogOnly } from "../services/operator";
import { listIssues, type OpsIssueStatus } from "../services/ops-issues";

export const SUPPORT_REASON_MIN = 10;
export const SUPPORT_REASON_MAX = 500;

const ReasonHeaders = z.object({
  "x-support-reason": z
    .string()
    .trim()
    .min(SUPPORT_REASON_MIN, `state why you need access (at least ${SUPPORT_REASON_MIN} characters)`)
    .max(SUPPORT_REASON_MAX)
    .openapi({
      param: { name: "x-support-reason", in: "header", required: true },
      description: "Why you are accessing this user's data; shown to the user in their activity log.",
      example: "Ticket 4411: user reports a generation stuck in queued",
    }),
});

const UserParams = z.object({
  userId: z
    .string()
    .max(100)
    .openapi({ param: { name: "userId", in: "path" }, example: "usr_9f86d081884c7d659a2feaa0c55ad015" }),
});

const staffErrors = {
  ...ownedErrors,
  403: problem("An API key (`insufficient_scope`), or no open support session of yours on this account (`forbidden`)."),
} as const;

const SupportUserSchema = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    consented: z.boolean(),
    keepPhotosDays: z.number().int(),
    credits: z.number().int(),
    supportAccessUntil: z.string().nullable(),
    counts: z.object({
      photos: z.number().int(),
      outputs: z.number().int(),
      exports: z.number().int(),
      apiKeys: z.number().int(),
      generations: z.record(z.string(), z.number().int()),
    }),
  })
  .openapi("SupportUserSummary");

const SupportGenerationSchema = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "submitted", "completed", "failed", "canceled"]),
    stage: z.string(),
    model: z.string(),
    attempts: z.number().int(),
    errorCode: z.string().nullable(),
    createdAt: z.string(),
    submittedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    deadlineAt: z.string(),
    outputs: z.number().int(),
  })
  .openapi("SupportGeneration");

const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) });

export const supportRoutes = createRouter();

/** The reason from the validated header, and the target user or a plain 404. */
async function staffContext(c: Context<AppEnv>, userId: string, reason: string) {
  const { s, auth, meta } = ownerContext(c);
  const user = await findUser(s, userId);
  if (!user) throw new AppError("not_found");
  // Account facts only inside a support session this operator opened (decision 0019).
  if (!(await hasOpenSession(s, auth.userId, user.id))) {
    throw new AppError("forbidden", "Open a support session on this account first (POST /v1/admin/support-sessions).");
  }
  return { s, user, staff: auth, reason, meta };
}

/**
 * A read in both logs: `support.accessed` in the user's (with the reason,
 * sealed there) and `support.read` in the operator log (what was viewed).
 */
async function recordRead(s: Services, staffId: string, userId: string, reason: string, viewed: string, meta: RequestMeta): Promise<void> {
  await recordSupportAccess(s, { staff: { userId: staffId }, userId, reason, viewed, allowed: true, meta });
  await recordOperatorLogOnly(s, staffId, "support.read", { type: "user", id: userId }, userId, { viewed });
}

supportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/support/users/{userId}",
    operationId: "getSupportUsersByUserId",
    tags: ["support"],
    summary: "Staff: a user's account metadata (counts and states, no images)",
    ...authenticated({ operator: true, limit: "read" }),
    request: { params: UserParams, headers: ReasonHeaders },
    responses: { 200: jsonResponse("Metadata", SupportUserSchema), ...staffErrors },
  }),
  async (c) => {
    const { userId } = c.req.valid("param");
    const { s, user, staff, reason, meta } = await staffContext(c, userId, c.req.valid("header")["x-support-reason"]);
    const summary = await userSummary(s, user);
    await recordRead(s, staff.userId, user.id, reason, "your account summary", meta);
    return c.json(summary, 200);
  },
);

supportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/support/users/{userId}/generations",
    operationId: "getSupportUsersByUserIdGenerations",
    tags: ["support"],
    summary: "Staff: a user's generations and their states (no images)",
    ...authenticated({ operator: true, limit: "read" }),
    request: { params: UserParams, headers: ReasonHeaders, query: LimitQuery },
    responses: {
      200: {
        description: "Generation states, newest first",
        content: { "application/json": { schema: z.object({ items: z.array(SupportGenerationSchema) }) } },
      },
      ...staffErrors,
    },
  }),
  async (c) => {
    const { userId } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    const { s, user, staff, reason, meta } = await staffContext(c, userId, c.req.valid("header")["x-support-reason"]);
    const items = await generationStates(s, user.id, limit);
    await recordRead(s, staff.userId, user.id, reason, "the states of your generations", meta);
    return c.json({ items }, 200);
  },
);

const OpsIssueSchema = z
  .object({
    kind: z.enum(["fal.payloads_delete", "mail.send"]),
    ref: z.string().openapi({ description: "The Fal request id, or the mail's template and receipt/export id. No personal data." }),
    status: z.enum(["retrying", "failed", "resolved"]),
    attempts: z.number().int(),
    lastError: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("OpsIssue");

const OpsQuery = z.object({
  status: z.enum(["open", "retrying", "failed", "resolved", "all"]).default("open").openapi({ description: "`open` = retrying or failed." }),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

supportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/support/operations",
    operationId: "getSupportOperations",
    tags: ["support"],
    summary: "Staff: background tasks that failed (Fal payload deletions, mails), newest first",
    description: "What the queue could not finish: retried with backoff (`retrying`), given up (`failed`), or done later (`resolved`). See docs/runbooks/operations.md.",
    ...authenticated({ operator: true, limit: "read" }),
    request: { query: OpsQuery },
    responses: { 200: jsonResponse("Tasks", z.object({ items: z.array(OpsIssueSchema) })), ...ownedErrors },
  }),
  async (c) => {
    const { status, limit } = c.req.valid("query");
    const statuses: OpsIssueStatus[] =
      status === "open" ? ["retrying", "failed"] : status === "all" ? ["retrying", "failed", "resolved"] : [status];
    const rows = await listIssues(c.get("services"), { statuses, limit });
    const items = rows.map((r) => ({
      kind: r.kind,
      ref: r.ref,
      status: r.status,
      attempts: r.attempts,
      lastError: r.lastError,
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
    }));
    return c.json({ items }, 200);
  },
);
