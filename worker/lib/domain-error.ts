/**
 * The one error services throw when a request cannot be carried out for a
 * reason of the domain (no such thing, already decided, not allowed, ...).
 * It names a `kind`, not an HTTP status: only the HTTP layer turns it into a
 * problem+json answer (worker/errors.ts `fromDomainError`, used by the app's
 * onError), and jobs see it as any other failure. Faults of infrastructure
 * (a key that cannot be loaded, a provider error) keep their own classes.
 * docs/decisions/0023-composition-root-and-domain-errors.md.
 */

export type DomainErrorKind =
  /** The input breaks a rule; `fields` says which. */
  | "invalid"
  | "not_found"
  /** The thing is in a state that does not allow this (already decided, ended, not yet credited). */
  | "conflict"
  | "forbidden"
  | "gone"
  /** Not enough credits. */
  | "payment_required"
  /** A dependency (payment provider, queue) cannot be reached now; `retryAfter` says when to try again. */
  | "unavailable"
  /** A byte range outside the object. */
  | "out_of_range"
  /** An idempotency key already used for a different request. */
  | "duplicate_request";

export interface FieldError {
  /** Dotted path of the offending field, e.g. `options.images`. */
  field: string;
  message: string;
}

export interface DomainErrorOptions {
  fields?: FieldError[];
  /** Seconds after which trying again may succeed. */
  retryAfter?: number;
}

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  /** Safe to show the caller: it names no internal id and no personal data. */
  readonly detail: string | undefined;
  readonly fields: FieldError[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(kind: DomainErrorKind, detail?: string, options: DomainErrorOptions = {}) {
    super(detail ?? kind);
    this.name = "DomainError";
    this.kind = kind;
    this.detail = detail;
    this.fields = options.fields;
    this.retryAfter = options.retryAfter;
  }
}
