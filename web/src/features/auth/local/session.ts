/**
 * The local provider's session: a token from POST /v1/dev/session, kept in
 * sessionStorage (this tab only, gone when it closes) and re-minted before it
 * expires. Development only: the Worker does not serve /v1/dev elsewhere.
 */
import * as z from "zod/mini";
import { publicApi } from "../../../lib/api/client";
import { unwrap } from "../../../lib/api/problem";
import type { paths } from "../../../lib/api/schema";

type SessionRequest = NonNullable<paths["/v1/dev/session"]["post"]["requestBody"]>["content"]["application/json"];

const STORAGE_KEY = "babypic.localSession";
/** Re-mint this long before expiry, so no request leaves with a dying token. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

const StoredSession = z.object({ user: z.string(), name: z.string(), token: z.string(), expiresAt: z.string(), verifiedAt: z.optional(z.string()) });
export type LocalSession = z.infer<typeof StoredSession>;

export function loadSession(): LocalSession | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = StoredSession.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function saveSession(session: LocalSession): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Milliseconds until the session should be refreshed (<= 0: now). */
export function refreshDueIn(session: LocalSession, now = Date.now()): number {
  return Date.parse(session.expiresAt) - now - REFRESH_MARGIN_MS;
}

/**
 * Mints a token. `verifiedAt` (a refresh) keeps the time of the last sign-in
 * check so the token's `fva` claim ages like Clerk's; without it (signing in,
 * or confirming "it's you") the token counts as just verified.
 */
export async function mintSession(user: string, name: string, verifiedAt?: string): Promise<LocalSession> {
  // Ids come from GET /v1/dev/users (or a stored session); the API checks them against its own list.
  const body = (verifiedAt ? { user, verifiedAt } : { user }) as SessionRequest;
  const minted = unwrap(await publicApi.POST("/v1/dev/session", { body }));
  return { user, name, token: minted.token, expiresAt: minted.expiresAt, verifiedAt: minted.verifiedAt };
}
