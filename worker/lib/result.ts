/**
 * The two shapes of an expected refusal, for code that must not throw on bad
 * input (signature and link checks, upload envelopes, image validation): a
 * tagged `reason` for the log and the tests, a generic answer on the wire
 * (docs/decisions/0023-composition-root-and-domain-errors.md). Results that
 * carry more than these are declared beside their function.
 */

/** A yes, or a no with its reason. */
export type Check<R extends string> = { ok: true } | { ok: false; reason: R };

/** A value, or a refusal with its reason and a detail that is safe to show. */
export type Result<T, R extends string> = { ok: true; value: T } | { ok: false; reason: R; detail: string };
