/**
 * When the API answers `401 account_deleted` (a session from before the
 * account's deletion, worker/middleware/auth.ts), the app signs out and the
 * sign-in page says why, once. The note lives in sessionStorage so it
 * survives the sign-out's re-render and redirect, and holds no identity.
 */
const KEY = "babypic.account-deleted";

/**
 * Once per page: several calls (from several components' clients) may be refused
 * at once, and a late one must not leave the note again after the sign-in page
 * has shown and cleared it.
 */
let notedThisPage = false;

/** Remembers that the last sign-out happened because the account was deleted. */
export function noteAccountDeleted(): void {
  if (notedThisPage) return;
  notedThisPage = true;
  try {
    sessionStorage.setItem(KEY, "1");
  } catch {
    // Storage unavailable: the sign-out still happens, only the note is lost.
  }
}

/** Whether the last sign-out happened because the account was deleted (read only; see clearAccountDeletedNote). */
export function hasAccountDeletedNote(): boolean {
  try {
    return sessionStorage.getItem(KEY) === "1";
  } catch {
    return false;
  }
}

/** Forgets the note once the sign-in page has shown it. */
export function clearAccountDeletedNote(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing to clear
  }
}

/** Whether a parsed problem body says account_deleted. */
export function isAccountDeleted(body: unknown): boolean {
  return typeof body === "object" && body !== null && (body as Record<string, unknown>)["code"] === "account_deleted";
}
