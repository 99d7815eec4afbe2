// The one set of log-redaction rules, for the Worker's logger (worker/lib/log.ts)
// and for the local stack's request lines (scripts/lib/redact.mjs, used by
// start.mjs, fal-local and creem-local). Plain JavaScript with declarations in
// redact.d.mts, so that Node scripts load it without a TypeScript step.
//
// What never reaches a log (docs/threat-model.md): tokens
// (session JWTs, API keys, Bearer credentials), signatures and the tokens of
// signed links (docs/signed-links.md), keys, and email addresses.

const SIG_PARAM = /([?&](?:sig|signature|token|X-Amz-Signature|X-Amz-Credential|key|api_key|access_token)=)[^&\s"'#]*/gi;
const INPUT_TOKEN = /(\/v1\/generation-inputs\/)[A-Za-z0-9._~-]+/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const API_KEY = /\bbp_[A-Za-z0-9_-]{8,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
/**
 * A long unbroken base64/base64url run with a digit and a capital is key-like
 * material (our ids are at most 36 characters, lower case; file paths rarely
 * have both).
 */
const KEY_LIKE = /(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Z])[A-Za-z0-9+/_-]{40,}={0,2}/g;
/** A URL's query or fragment, absolute or a path. */
const URL_QUERY = /((?:https?:\/\/[^\s/?#"'<>]+)?\/[^\s?#"'<>]*)[?#][^\s"'<>]*/g;

/**
 * The text with signatures, link tokens, credentials and email addresses
 * replaced; the rest (a request line's method, route and status) stays readable.
 */
export function redactText(text) {
  return text
    .replace(SIG_PARAM, "$1[redacted]")
    .replace(INPUT_TOKEN, "$1[redacted]")
    .replace(BEARER, "$1 [redacted]")
    .replace(JWT, "[jwt]")
    .replace(API_KEY, "bp_[redacted]")
    .replace(EMAIL, "[email]")
    .replace(KEY_LIKE, "[redacted]");
}

/** The text with every URL's query and fragment cut off (a signed URL's capability lives there). */
export function stripQueries(text) {
  return text.replace(URL_QUERY, "$1?[query]");
}

/** Field names whose values are never logged, whatever they hold. */
export const SECRET_FIELD = /(token|secret|signature|^sig$|password|passphrase|authorization|cookie|e-?mail|api_?key|private|^key$|credential|jwt|dek|kek_?material)/i;
