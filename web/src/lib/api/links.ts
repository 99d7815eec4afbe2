import { API_BASE } from "../config";

/**
 * Signed links name the API's public origin (PUBLIC_API_URL). The SPA loads
 * them from the API it was built for: API_BASE, or, when that is empty, its
 * own origin, whose /v1 is the API (Vite's proxy locally, a route in
 * production). That keeps every image under the CSP's img-src.
 */
export function apiHref(url: string): string {
  const u = new URL(url, window.location.origin);
  return `${API_BASE}${u.pathname}${u.search}`;
}
