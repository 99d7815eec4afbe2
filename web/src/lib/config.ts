/** Build-time configuration (Vite replaces these at build). */

/** The API's base URL; empty means same origin (local development proxies /v1). */
export const API_BASE = (import.meta.env.VITE_API_URL ?? "").replace(/\/+$/, "");

/**
 * Clerk is used only when a publishable key is configured; otherwise the
 * local identity provider of the development Worker (DESIGN.md, Identity).
 */
export const CLERK_PUBLISHABLE_KEY: string | undefined = import.meta.env.VITE_CLERK_PUBLISHABLE_KEY || undefined;
