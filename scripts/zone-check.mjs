/* global AbortSignal -- Node 20+ */
// `npm run ops:zone-check -- --zone <zone id>` (or CLOUDFLARE_ZONE_ID): reads
// the zone's minimum TLS version through Cloudflare's API
//   GET /client/v4/zones/{zone_id}/settings/min_tls_version
//   -> {success, errors, messages, result: {id: "min_tls_version", value: "1.0"|"1.1"|"1.2"|"1.3", editable, modified_on}}
// with CLOUDFLARE_API_TOKEN (Zone Settings: Read), and fails unless it is 1.3.
// CLOUDFLARE_API_BASE_URL overrides https://api.cloudflare.com/client/v4
// (the same variable wrangler honours; the tests point it at a loopback fake).
// The token is never printed.
import { parseArgs } from "node:util";

const REQUIRED = "1.3";
const VERSIONS = ["1.0", "1.1", "1.2", "1.3"];

function fail(message, code = 1) {
  console.error(`[zone-check] ${message}`);
  process.exit(code);
}

let values;
try {
  values = parseArgs({ options: { zone: { type: "string" } } }).values;
} catch (err) {
  fail(`${err instanceof Error ? err.message : String(err)}; usage: npm run ops:zone-check -- --zone <zone id>`, 2);
}
const zone = values.zone ?? process.env.CLOUDFLARE_ZONE_ID ?? "";
const token = process.env.CLOUDFLARE_API_TOKEN ?? "";
if (!/^[0-9a-f]{32}$/.test(zone)) fail("a zone id (32 hex characters) is required: --zone <id> or CLOUDFLARE_ZONE_ID (dashboard → the zone → Overview → Zone ID)", 2);
if (!token) fail("CLOUDFLARE_API_TOKEN is required (a token with Zone Settings: Read for this zone)", 2);
const base = (process.env.CLOUDFLARE_API_BASE_URL ?? "https://api.cloudflare.com/client/v4").replace(/\/+$/, "");

let res;
try {
  res = await fetch(`${base}/zones/${zone}/settings/min_tls_version`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    signal: AbortSignal.timeout(15_000),
  });
} catch (err) {
  fail(`could not reach the Cloudflare API: ${err instanceof Error ? err.message : String(err)}`);
}
let body;
try {
  body = await res.json();
} catch {
  fail(`the Cloudflare API answered ${res.status} without JSON`);
}
if (!res.ok || body?.success !== true) {
  const errors = Array.isArray(body?.errors) ? body.errors.map((e) => `${e.code}: ${e.message}`).join("; ") : "no error details";
  fail(`the Cloudflare API refused (HTTP ${res.status}): ${errors}`);
}
const value = body.result?.value;
if (body.result?.id !== "min_tls_version" || !VERSIONS.includes(value)) fail("unexpected answer: result is not the min_tls_version setting");
if (value !== REQUIRED) {
  fail(
    `zone ${zone}: minimum TLS version is ${value}; required ${REQUIRED}. Set it with:\n` +
      `  curl -X PATCH "${base}/zones/${zone}/settings/min_tls_version" -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" ` +
      `-H "Content-Type: application/json" --data '{"value":"${REQUIRED}"}'`,
  );
}
console.log(`[zone-check] ok: zone ${zone} accepts TLS ${value} only${body.result.modified_on ? ` (since ${body.result.modified_on})` : ""}`);
