/** Build-time configuration (Vite replaces these at build). */

/** The API's base URL; empty means same origin (local development proxies /v1). */
export const API_BASE = (import.meta.env.VITE_API_URL ?? "").replace(/\/+$/, "");

/**
 * Clerk is used only when a publishable key is configured; otherwise the
 * local identity provider of the development Worker (docs/architecture.md, Identity).
 */
/**
 * Minutes without interaction after which the app signs out (a warning comes
 * a minute before). Default 30; set VITE_IDLE_TIMEOUT_MINUTES at build time
 * and Clerk's "Inactivity timeout" to the same value (docs/runbooks/deploy.md).
 */
export const IDLE_TIMEOUT_MINUTES: number = idleMinutes(import.meta.env.VITE_IDLE_TIMEOUT_MINUTES);

function idleMinutes(raw: string | undefined): number {
  const n = Number(raw);
  return raw && Number.isInteger(n) && n >= 2 && n <= 1440 ? n : 30;
}

export const CLERK_PUBLISHABLE_KEY: string | undefined = import.meta.env.VITE_CLERK_PUBLISHABLE_KEY || undefined;
