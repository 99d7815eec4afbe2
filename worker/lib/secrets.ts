/**
 * The secrets a deployed Worker needs, by name (values never appear here).
 * Dependency-free: worker/env.ts checks them at startup, and the Node scripts
 * (deploy:dry-run, ops:provision; scripts/lib/) import this file directly.
 */

/** Provider secrets a production Worker refuses to start without. */
export const PRODUCTION_SECRETS = ["FAL_KEY", "FAL_ADMIN_KEY", "CLERK_SECRET_KEY", "CLERK_WEBHOOK_SECRET", "CREEM_API_KEY", "CREEM_WEBHOOK_SECRET"] as const;

/** Every secret a staging or production deployment must have set (`wrangler secret put`). */
export const REQUIRED_SECRETS = [
  "CLERK_JWT_KEY",
  "CLERK_SECRET_KEY",
  "CLERK_WEBHOOK_SECRET",
  "MASTER_KEYS",
  "URL_SIGNING_KEYS",
  "HPKE_KEYS",
  "AUDIT_SIGNING_KEYS",
  "LOOKUP_HMAC_KEY",
  "FAL_KEY",
  "FAL_ADMIN_KEY",
  "CREEM_API_KEY",
  "CREEM_WEBHOOK_SECRET",
] as const;
