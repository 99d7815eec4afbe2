import { API_BASE } from "../../lib/config";

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

/** Replace a link this long before it expires (links live at most one hour). */
export const LINK_REFRESH_MARGIN_MS = 2 * 60_000;

/** Milliseconds until the earliest of these links should be replaced, or false when there are none. */
export function linkRefreshIn(expiries: readonly (string | null)[], now = Date.now()): number | false {
  let earliest = Infinity;
  for (const e of expiries) {
    const t = e ? Date.parse(e) : NaN;
    if (!Number.isNaN(t)) earliest = Math.min(earliest, t);
  }
  if (!Number.isFinite(earliest)) return false;
  return Math.max(5_000, earliest - now - LINK_REFRESH_MARGIN_MS);
}
