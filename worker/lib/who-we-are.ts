/**
 * Who is responsible for the data (GDPR Art. 13(1)(a) and (b)): the
 * controller's name and address, the Data Protection Officer's contact and
 * the privacy and security contacts. They come from configuration (wrangler
 * vars per environment), are checked by worker/env.ts at startup and by
 * `npm run deploy:dry-run` before a deployment, and are published by
 * `GET /v1/privacy`, which the Privacy and Security pages read.
 *
 * Dependency-free on purpose: scripts/dry-run.mjs imports it under Node.
 */

export const WHO_WE_ARE_VARS = ["CONTROLLER_NAME", "CONTROLLER_ADDRESS", "DPO_NAME", "DPO_EMAIL", "PRIVACY_EMAIL", "SECURITY_EMAIL"] as const;
export type WhoWeAreVar = (typeof WHO_WE_ARE_VARS)[number];

const EMAIL_VARS: readonly WhoWeAreVar[] = ["DPO_EMAIL", "PRIVACY_EMAIL", "SECURITY_EMAIL"];

/** Local development values say they are examples; a deployment must never publish them. */
export const EXAMPLE_MARKER = /\bexample\b/i;

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export interface WhoWeAre {
  controller: { name: string; address: string };
  dpo: { name: string; email: string };
  privacyContact: { email: string };
  securityContact: { email: string };
}

/**
 * What is wrong with these vars, per variable (the message never holds the value).
 * Every variable is required; outside development an example value is refused.
 */
export function whoWeAreProblems(vars: Readonly<Record<string, unknown>>, environment: string): { name: WhoWeAreVar; message: string }[] {
  const problems: { name: WhoWeAreVar; message: string }[] = [];
  for (const name of WHO_WE_ARE_VARS) {
    const raw = vars[name];
    const value = typeof raw === "string" ? raw.trim() : "";
    if (!value) {
      problems.push({ name, message: "is missing" });
      continue;
    }
    if (value.length > 300) problems.push({ name, message: "is longer than 300 characters" });
    if (EMAIL_VARS.includes(name) && !EMAIL.test(value)) problems.push({ name, message: "must be an email address" });
    if (environment !== "development" && EXAMPLE_MARKER.test(value)) problems.push({ name, message: `is a development example; set the real value for ${environment}` });
  }
  return problems;
}

export function whoWeAre(vars: Readonly<Record<WhoWeAreVar, string>>): WhoWeAre {
  return {
    controller: { name: vars.CONTROLLER_NAME.trim(), address: vars.CONTROLLER_ADDRESS.trim() },
    dpo: { name: vars.DPO_NAME.trim(), email: vars.DPO_EMAIL.trim() },
    privacyContact: { email: vars.PRIVACY_EMAIL.trim() },
    securityContact: { email: vars.SECURITY_EMAIL.trim() },
  };
}

/** Days a served security.txt stays valid; RFC 9116 §2.5.5 recommends less than a year. */
export const SECURITY_TXT_DAYS = 180;

/**
 * `/.well-known/security.txt` (RFC 9116). Expires is computed from `now`, so
 * the served file never goes stale; Canonical names where it is served.
 */
export function securityTxt(opts: { securityEmail: string; policyUrl: string; canonicalUrl: string; now: number }): string {
  const day = 86_400_000;
  const expires = new Date(Math.floor(opts.now / day) * day + SECURITY_TXT_DAYS * day).toISOString();
  return [
    `Contact: mailto:${opts.securityEmail}`,
    `Expires: ${expires}`,
    `Policy: ${opts.policyUrl}`,
    "Preferred-Languages: en",
    `Canonical: ${opts.canonicalUrl}`,
    "",
  ].join("\n");
}
