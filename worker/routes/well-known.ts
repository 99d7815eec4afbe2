/**
 * `/.well-known/security.txt` (RFC 9116) on the API origin, from the
 * configured security contact; Expires is computed per request (180 days
 * ahead), so it never goes stale. The SPA origin redirects its own
 * /.well-known/security.txt here (web/vite.config.ts writes `_redirects`).
 * See docs/decisions/0015-privacy-team.md.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { securityTxt } from "../lib/who-we-are";
import { rateLimit } from "../middleware/rate-limit";

export const SECURITY_TXT_PATH = "/.well-known/security.txt";

export const wellKnownRoutes = new Hono<AppEnv>();

wellKnownRoutes.get(SECURITY_TXT_PATH, rateLimit("ip"), (c) => {
  const { config, now } = c.get("services");
  const body = securityTxt({
    securityEmail: config.SECURITY_EMAIL.trim(),
    policyUrl: `${config.APP_ORIGIN}/security/disclosure`,
    canonicalUrl: `${config.PUBLIC_API_URL}${SECURITY_TXT_PATH}`,
    now: now(),
  });
  return c.text(body, 200, { "cache-control": "public, max-age=3600" });
});
