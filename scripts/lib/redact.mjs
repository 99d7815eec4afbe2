// Log redaction for everything the local stack prints or keeps (start.mjs's
// per-service tail): wrangler dev logs every request line with its full URL,
// and a signed link's URL is a capability (docs/signed-links.md). The
// signature goes, the rest of the line stays readable; a generation-input
// link (its token is kid.claims.signature in the path) keeps only its route.

const SIG_PARAM = /([?&](?:sig|signature|token|X-Amz-Signature)=)[^&\s"'#]*/gi;
const INPUT_TOKEN = /(\/v1\/generation-inputs\/)[A-Za-z0-9._~-]+/g;

/** The line with every signature in a URL query or an input-link path replaced. */
export function redactLine(line) {
  return line.replace(SIG_PARAM, "$1[redacted]").replace(INPUT_TOKEN, "$1[redacted]");
}
