// Log redaction for everything the local stack prints or keeps (start.mjs's
// per-service tail, fal-local, creem-local): wrangler dev logs every request
// line with its full URL, and a signed link's URL is a capability
// (docs/signed-links.md). The rules are the Worker logger's
// (worker/lib/redact.mjs): signatures, link tokens, credentials and email
// addresses go; the rest of the line (method, route, status) stays readable.
import { redactText } from "../../worker/lib/redact.mjs";

/** The line with every signature, link token, credential and email address replaced. */
export function redactLine(line) {
  return redactText(line);
}
