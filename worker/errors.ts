/**
 * One typed error with a stable machine code, and one code -> status table.
 * Responses are RFC 9457 problem details (`application/problem+json`) that
 * carry the code and the request id. Unknown errors never reach the wire:
 * they become a logged 500 with the request id and no internals.
 *
 * This is the HTTP layer's error: services do not import it (the
 * `services-throw-domain-errors` rule in .dependency-cruiser.cjs); they throw
 * a DomainError (lib/domain-error.ts), mapped here by `fromDomainError`.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError, type DomainErrorKind, type FieldError } from "./lib/domain-error";

export type { FieldError } from "./lib/domain-error";

export const ERROR_CODES = {
  bad_request: { status: 400, title: "Bad request" },
  validation_failed: { status: 400, title: "The request is not valid" },
  invalid_envelope: { status: 400, title: "The sealed upload could not be opened" },
  unknown_key: { status: 400, title: "Unknown upload key id" },
  invalid_image: { status: 400, title: "The image is not acceptable" },
  webhook_url_refused: { status: 400, title: "The webhook URL is not allowed" },
  unauthorized: { status: 401, title: "Authentication required" },
  invalid_signature: { status: 401, title: "Signature verification failed" },
  account_deleted: { status: 401, title: "This account has been deleted" },
  insufficient_credits: { status: 402, title: "Not enough credits" },
  forbidden: { status: 403, title: "Not allowed" },
  insufficient_scope: { status: 403, title: "The API key lacks the scope for this call" },
  consent_required: { status: 403, title: "Consent is required first" },
  reverification_required: { status: 403, title: "Confirm it is you to continue" },
  not_found: { status: 404, title: "Not found" },
  link_invalid: { status: 403, title: "This link is invalid or has expired" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  gone: { status: 410, title: "Gone" },
  payload_too_large: { status: 413, title: "The upload is too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  range_not_satisfiable: { status: 416, title: "Range not satisfiable" },
  idempotency_key_reused: { status: 422, title: "Idempotency-Key reused with a different request" },
  idempotency_key_required: { status: 428, title: "Idempotency-Key header required" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal error" },
  misconfigured: { status: 500, title: "The service is misconfigured" },
  upstream_unavailable: { status: 503, title: "A dependency is unavailable" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ProblemExtras {
  errors?: FieldError[];
  /** Seconds, for 429 and 503. */
  retryAfter?: number;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly extras: ProblemExtras;

  constructor(code: ErrorCode, detail?: string, extras: ProblemExtras = {}) {
    super(detail ?? ERROR_CODES[code].title);
    this.name = "AppError";
    this.code = code;
    this.detail = detail;
    this.extras = extras;
  }

  get status(): ContentfulStatusCode {
    return ERROR_CODES[this.code].status;
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  requestId: string;
  errors?: FieldError[];
  [key: string]: unknown;
}

export function problemBody(err: AppError, requestId: string, instance?: string): ProblemBody {
  const { retryAfter, ...rest } = err.extras;
  void retryAfter;
  return {
    type: `https://babypic.app/problems/${err.code.replaceAll("_", "-")}`,
    title: ERROR_CODES[err.code].title,
    status: err.status,
    code: err.code,
    ...(err.detail ? { detail: err.detail } : {}),
    ...(instance ? { instance } : {}),
    requestId,
    ...rest,
  };
}

export function problemResponse(err: AppError, requestId: string, instance?: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/problem+json");
  h.set("cache-control", "no-store");
  if (err.extras.retryAfter !== undefined) h.set("retry-after", String(Math.ceil(err.extras.retryAfter)));
  return new Response(JSON.stringify(problemBody(err, requestId, instance)), { status: err.status, headers: h });
}

/** The code each domain error kind answers with: a kind adds no code of its own. */
const DOMAIN_CODES = {
  invalid: "validation_failed",
  not_found: "not_found",
  conflict: "conflict",
  forbidden: "forbidden",
  gone: "gone",
  payment_required: "insufficient_credits",
  unavailable: "upstream_unavailable",
  out_of_range: "range_not_satisfiable",
  duplicate_request: "idempotency_key_reused",
} as const satisfies Record<DomainErrorKind, ErrorCode>;

/** The HTTP answer to a service's DomainError: same detail, field errors and Retry-After. */
export function fromDomainError(err: DomainError): AppError {
  return new AppError(DOMAIN_CODES[err.kind], err.detail, {
    ...(err.fields ? { errors: err.fields } : {}),
    ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}),
  });
}

/** An AppError as is, a DomainError mapped, anything else null (the caller logs it and answers 500). */
export function toAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof DomainError) return fromDomainError(err);
  return null;
}
