/**
 * The API's errors are RFC 9457 problem details with a stable `code` and the
 * request id (worker/errors.ts). ApiError carries them to the UI.
 */
import type { components } from "./schema";

export type Problem = components["schemas"]["Problem"];

function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["code"] === "string" && typeof v["status"] === "number" && typeof v["title"] === "string";
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  readonly fields: { field: string; message: string }[];
  /** The body as received: a `reverification_required` problem also carries Clerk's `clerk_error` hint. */
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    const problem = isProblem(body) ? body : null;
    super(problem ? (problem.detail ?? problem.title) : `The server answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.code = problem?.code ?? (status >= 500 ? "internal" : "bad_request");
    this.requestId = problem?.requestId ?? null;
    this.fields = problem?.errors ?? [];
    this.body = body;
  }
}

/** 403 `reverification_required`: the session must confirm the sign-in (worker/auth/step-up.ts). */
export function isReverificationRequired(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === "reverification_required";
}

/** The user closed the "confirm it's you" step (ours or Clerk's `reverification_cancelled`). */
export class StepUpCancelled extends Error {
  constructor() {
    super("You cancelled the sign-in check, so nothing was changed.");
    this.name = "StepUpCancelled";
  }
}

/**
 * A signed-in call was asked for while no session token exists (signed out,
 * idle sign-out, or the session was refused). Thrown before anything is sent
 * (web/src/lib/api/signed-in-token.ts), so such a call never reaches the API.
 */
export class SignedOut extends Error {
  constructor() {
    super("You are signed out. Sign in again to continue.");
    this.name = "SignedOut";
  }
}

/** Returns the data of an openapi-fetch result, or throws ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) throw new ApiError(result.response.status, result.error);
  return result.data;
}

/** A message for people, with the request id to quote when something broke on our side. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    return error.status >= 500 && error.requestId ? `${error.message} (request id ${error.requestId})` : error.message;
  }
  if (error instanceof StepUpCancelled || error instanceof SignedOut) return error.message;
  if (error instanceof TypeError) return "Could not reach BabyPic. Check your connection and try again.";
  return "Something went wrong. Please try again.";
}
