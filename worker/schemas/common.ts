import { z } from "@hono/zod-openapi";
import { ERROR_CODES, type ErrorCode } from "../errors";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    detail: z.string().optional(),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem", {
    example: {
      type: "https://babypic.app/problems/not-found",
      title: "Not found",
      status: 404,
      code: "not_found",
      requestId: "req_4f1c2a9e0b7d4c3a8e6f5d4c3b2a1908",
    },
  });

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/** Error responses shared by authenticated routes. */
export const authErrors = {
  401: problem("Missing, expired or invalid credentials (`unauthorized`), or a credential issued before its account was deleted (`account_deleted`)."),
  403: problem("The API key lacks the needed scope (`insufficient_scope`)."),
  429: problem("Rate limited (`rate_limited`); see `Retry-After`."),
} as const;

/** A sensitive action (worker/auth/step-up.ts): the session's sign-in check must be recent. */
export const stepUpErrors = {
  403: problem(
    "An API key on this browser-session-only action (`insufficient_scope`), or a session that has not verified its sign-in within the last 10 minutes (`reverification_required`). The latter's body also carries Clerk's " +
      "`clerk_error` reverification hint (`{type: \"forbidden\", reason: \"reverification-error\", metadata: {reverification: {level, afterMinutes}}}`), " +
      "so Clerk's `useReverification()` asks the user to verify and retries.",
  ),
} as const;

export const notFound = { 404: problem("No such resource for this user (`not_found`): the same answer whether it exists for someone else or not at all.") };
export const badRequest = { 400: problem("Invalid input (`validation_failed` lists the fields).") };
export { problem };

/** A route that reads input and authenticates: 400 and the refusals of authErrors. */
export const inputErrors = { ...badRequest, ...authErrors } as const;
/** The same for a route about one of the caller's things, plus the owner-scoped 404. */
export const ownedErrors = { ...inputErrors, ...notFound } as const;

/**
 * The answers of an operation on one of the caller's own resources, by id:
 * `ok` (its 200), then ownedErrors.
 */
export function ownedResponses<const T extends { description: string }>(ok: T) {
  return { 200: ok, ...ownedErrors };
}


/** A JSON answer of a createRoute's `responses`: `{ description, content: { "application/json": { schema } } }`. */
export function jsonResponse<T extends z.ZodType>(description: string, schema: T) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON body of a createRoute's `request`. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/** An `{id}` path parameter whose service looks the id up itself (operator and support routes). */
export const IdParams = z.object({ id: z.string().max(100).openapi({ param: { name: "id", in: "path" } }) });

/** Cursor pagination: opaque cursor from `nextCursor`, newest first. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().max(200).optional(),
});
