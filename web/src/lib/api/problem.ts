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

/**
 * What to do next, for every error code of worker/errors.ts (issue 19 item 4:
 * "errors say what happened and what to do next"). The message says what
 * happened (the API's detail or title); this says what the person can do.
 * Typed by the API's own list of codes, and test/node/error-messages.test.ts
 * checks it against worker/errors.ts both ways.
 */
export const NEXT_STEP: Record<Problem["code"], string> = {
  bad_request: "Check what you entered and try again.",
  validation_failed: "Correct the fields named above and try again.",
  invalid_envelope: "Reload the page and choose the photo again; if it keeps failing, update your browser.",
  unknown_key: "Reload the page to get BabyPic's current key, then choose the photo again.",
  invalid_image: "Choose a JPEG, PNG or WebP photo of at least 256 pixels on each side and try again.",
  webhook_url_refused: "Use a public https address that you control.",
  unauthorized: "Sign in again, then retry.",
  invalid_signature: "Sign in again, then retry.",
  account_deleted: "This account is gone; sign up again to start a new, empty account.",
  insufficient_credits: "Buy credits on the Credits page, or choose fewer images.",
  forbidden: "Sign in with the account that owns this, or ask its owner.",
  insufficient_scope: "Create an API key with the permission this needs, in API keys.",
  consent_required: "Accept the terms and confirm the people pictured agreed, on the Create page.",
  reverification_required: "Confirm it is you when asked, then try again.",
  not_found: "It may have been deleted: go back to Your pictures or the overview.",
  link_invalid: "Reload the page to get a fresh link.",
  method_not_allowed: "Reload the page and try again; if it keeps happening, update the app or client you use.",
  conflict: "Reload the page to see the current state, then try again.",
  gone: "It no longer exists; reload the page to see what is left.",
  payload_too_large: "Choose a smaller photo (under 40 megapixels) and try again.",
  unsupported_media_type: "Choose a JPEG, PNG or WebP photo and try again.",
  range_not_satisfiable: "Start the download again from the beginning.",
  idempotency_key_reused: "Start the request again from the page, so it gets a new key.",
  idempotency_key_required: "Reload the page and try again; API clients must send an Idempotency-Key header.",
  rate_limited: "Wait a minute, then try again.",
  internal: "Try again in a few minutes; if it keeps failing, contact us with the request id.",
  misconfigured: "This is our fault: try again later, or contact us with the request id.",
  upstream_unavailable: "A service we rely on is not answering: try again in a few minutes.",
};

/** The next step for an error code, when the code is one of worker/errors.ts's. */
export function nextStep(code: string): string | undefined {
  return Object.hasOwn(NEXT_STEP, code) ? NEXT_STEP[code as Problem["code"]] : undefined;
}

/** A message for people: what happened, what to do next, and the request id to quote when something broke on our side. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const happened = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
    const next = nextStep(error.code);
    const text = next ? `${happened} ${next}` : happened;
    return error.status >= 500 && error.requestId ? `${text} (request id ${error.requestId})` : text;
  }
  if (error instanceof StepUpCancelled || error instanceof SignedOut) return error.message;
  if (error instanceof TypeError) return "Could not reach BabyPic. Check your connection and try again.";
  return "Something went wrong. Please try again.";
}
