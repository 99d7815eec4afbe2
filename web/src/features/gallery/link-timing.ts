/** Replace a link this long before it expires (links live at most one hour). DOM-free, so Node tests run it. */
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
