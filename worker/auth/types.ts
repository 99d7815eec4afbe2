/** Scopes an API key can carry. A browser session has all of them. */
export const SCOPES = [
  "photos:read",
  "photos:write",
  "generations:read",
  "generations:write",
  "account:read",
  "billing:write",
] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, after authentication. `userId` is our internal id. */
export interface AuthContext {
  userId: string;
  externalId: string;
  via: "session" | "api_key";
  /** API key id for `api_key`, session id (or subject) for `session`. */
  actorId: string;
  /** null means every scope (a browser session). */
  scopes: ReadonlySet<Scope> | null;
  isAdmin: boolean;
  /**
   * Sessions only: an engineer (claim `role: "engineer"`, Clerk public
   * metadata, or ENGINEER_USER_IDS), who may ask to see a user's picture in a
   * support session (decision 0019). Engineers are operators too. Absent = false.
   */
  isEngineer?: boolean;
  /**
   * The user's consent columns when authentication already read the user row
   * (sessions), so requireConsent need not read it again; absent for API keys.
   */
  consent?: { version: string | null; at: number | null };
  /**
   * Sessions only: minutes since the first and second factor were verified,
   * as of this request (Clerk's `fva`, aged by the token's age); null when the
   * token does not say. API keys have none: they never reach a step-up route.
   */
  factorAges?: readonly [number, number] | null;
}

export function hasScope(auth: AuthContext, scope: Scope): boolean {
  return auth.scopes === null || auth.scopes.has(scope);
}
