/**
 * Authentication for every protected route: a Clerk (or local, in
 * development) session JWT, or an integrator API key (`bp_...`). Failures are
 * one generic 401 on the wire (`unauthorized`, or `account_deleted` for a
 * credential of a deleted account); the reason goes to the security log.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { authenticateApiKey, hashApiKey } from "../auth/api-keys";
import { LOCAL_ISSUER } from "../auth/local-idp";
import { verifySession } from "../auth/session";
import { agesNow, checkStepUp, parseFactorAges, sessionAgeMinutes, STEP_UP_AFTER_MINUTES, STEP_UP_LEVEL } from "../auth/step-up";
import { hasScope, type AuthContext, type Scope } from "../auth/types";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { requestMeta } from "../lib/request-meta";
import { bindingRateLimiter, clientIp, credentialRateLimitKey, rateLimit, enforceRateLimit, markCounted, unmarkCounted, type RateLimitDecision, type RateLimitKind } from "./rate-limit";
import { cachedSession, forgetSession, rememberSession, sessionCacheKey } from "../auth/session-cache";
import { appendAudit, recordAudit } from "../services/audit";
import { apiKeyWasDeleted, CLOCK_SKEW_MS, issuedBeforeDeletion } from "../services/deleted-credentials";
import { logSecurityEvent } from "../services/security-log";
import { ensureUser, sessionUserLookup } from "../services/users";
import { peekUserDataKey } from "../services/crypto/keys";
import type { Services } from "../services";
import { forgetPrefetched, keepPrefetched, type Reads, type RouteReads } from "./route-reads";

export interface AuthOptions {
  /** Scope an API key must hold for this route. Sessions hold every scope. */
  scope?: Scope;
  /**
   * Only a browser session may call this (API key management, account
   * deletion, exports). A valid API key gets 403 `insufficient_scope`.
   */
  sessionOnly?: boolean;
  /**
   * A sensitive action: the session must have verified its sign-in within the
   * last 10 minutes (Clerk's `fva`), else 403 `reverification_required`.
   * Implies sessionOnly. See worker/auth/step-up.ts.
   */
  stepUp?: boolean;
  /**
   * The route's per-credential rate limit, counted here (instead of a
   * following `rateLimit(kind)`) so that for a session token seen before it
   * runs alongside the user lookup (docs/decisions/0026).
   */
  rateLimit?: Exclude<RateLimitKind, "ip">;
  /**
   * The route's own D1 reads, sent in one batch with the user lookup when the
   * session token is cached (docs/decisions/0028).
   */
  reads?: RouteReads;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/;

export function requireAuth(opts: AuthOptions = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const s = c.get("services");
    const meta = requestMeta(c.req.raw, c.get("requestId"));
    const fail = async (reason: string, code: "unauthorized" | "account_deleted" = "unauthorized"): Promise<never> => {
      // Failed authentications count against the caller's address first, so a
      // flood of bad tokens is refused cheaply instead of writing a security
      // log row each (the refusals past the limit are one 429 per window's worth).
      const limiter = s.rateLimiter ?? bindingRateLimiter(s.env);
      const decision = await limiter.limit("ip", `authfail:${clientIp(c)}`);
      if (!decision.success) {
        throw new AppError("rate_limited", "Too many failed authentications; retry after Retry-After seconds.", {
          retryAfter: decision.retryAfter,
        });
      }
      await logSecurityEvent(s.db, "auth_failed", meta, s.now(), { reason, path: c.req.path });
      if (code === "account_deleted") {
        throw new AppError("account_deleted", "This credential was issued before its account was deleted. Sign in again to start a new account.");
      }
      throw new AppError("unauthorized", "A valid session token or API key is required.");
    };

    const header = c.req.header("authorization");
    if (!header) return fail("missing-header");
    const match = BEARER.exec(header);
    const token = match?.[1];
    if (!token) return fail("malformed-header");

    let auth: AuthContext;
    /** The route's rate limit when it was counted alongside the user lookup. */
    let early: { userId: string; decision: RateLimitDecision } | null = null;
    if (token.startsWith("bp_")) {
      const result = await authenticateApiKey(s.db, token, s.now());
      if (!result.ok) {
        if (result.reason === "account-being-deleted") return fail(result.reason, "account_deleted");
        // A key of a deleted account no longer exists; for a while it is still known as deleted.
        if (result.reason === "api-key-unknown" && (await apiKeyWasDeleted(s, await hashApiKey(token), s.now()))) return fail("api-key-of-deleted-account", "account_deleted");
        return fail(result.reason);
      }
      if (opts.sessionOnly || opts.stepUp) {
        // A valid key is authenticated but not authorized here: 403, not 401
        // (RFC 6750 §3.1 insufficient_scope), so an integrator is not told to
        // fix a credential that is fine.
        await logSecurityEvent(s.db, "scope_denied", meta, s.now(), { reason: "api-key-on-session-route", userId: result.auth.userId, path: c.req.path });
        throw new AppError("insufficient_scope", "This route needs a browser session; API keys cannot call it.");
      }
      auth = result.auth;
      auth.isAdmin = false;
      auth.isEngineer = false;
      // Recorded before the route runs; chained after the answer (docs/decisions/0018).
      await recordAudit(
        s,
        [
          {
            userId: auth.userId,
            actor: { type: "api_key", id: auth.actorId },
            action: "api_key.used",
            target: { type: "route", id: `${c.req.method} ${c.req.routePath}` },
            meta,
          },
        ],
        s.now(),
      );
    } else {
      // A token verified in this isolate within the last minute (and before its exp) is not verified again (docs/decisions/0026).
      const cacheKey = await sessionCacheKey(token, s.config);
      const cached = cachedSession(cacheKey, s.now());
      const result = cached?.result ?? (await verifySession(token, s.config));
      if (!result.ok) return fail(result.reason);
      // The maximum session lifetime (docs/decisions/0014): Clerk ends sessions
      // at its "Maximum lifetime"; this refuses any token that says it is older.
      const age = sessionAgeMinutes(result.claims, s.now());
      if (age === null) return fail("session-age-unknown");
      if (age >= s.config.SESSION_MAX_MINUTES) return fail("session-too-old");
      // A session issued before the account was deleted must not act on it mid-deletion, nor recreate it
      // afterwards (issue 14 §4); one issued after a completed deletion is a new sign-up. Only a first sign-in creates.
      // The user this token had last time lets the rate limit count alongside the lookup; the lookup (and its deletion checks) runs every time.
      const kind = opts.rateLimit;
      const guess = kind && cached?.userId && markCounted(c, kind) ? { kind, userId: cached.userId } : null;
      const limiter = s.rateLimiter ?? bindingRateLimiter(s.env);
      // The route's reads for the user this token had last time, in the lookup's batch (docs/decisions/0028).
      const lookup = await sessionUserLookup(s, result.subject, s.now());
      const reads = cached?.userId && opts.reads ? buildReads(opts.reads, s, cached.userId, c) : null;
      // Read-only: the key file is read and unwrapped, never migrated or re-wrapped, for a user not yet confirmed.
      if (reads && opts.reads?.dataKey && cached?.userId) peekUserDataKey(s, cached.userId);
      const lookupAlone = () => lookup.statement.then(async (rows) => [await lookup.read(rows), null] as const);
      const [[found, prefetched], guessed] = await Promise.all([
        reads
          ? // A route read that fails must not decide authentication: the lookup then runs alone.
            s.db
              .batch([lookup.statement, ...reads])
              .then(async ([rows, ...rest]) => [await lookup.read(rows), rest] as const)
              .catch(lookupAlone)
          : lookupAlone(),
        guess ? limiter.limit(guess.kind, credentialRateLimitKey(guess.kind, { via: "session", userId: guess.userId, actorId: guess.userId })) : null,
      ]);
      const skew = result.claims["iss"] === LOCAL_ISSUER ? 0 : CLOCK_SKEW_MS;
      if (found.deleting || issuedBeforeDeletion(result.issuedAt, found.deletedAt, skew)) forgetSession(cacheKey);
      if (found.deleting) return fail("account-being-deleted", "account_deleted");
      if (issuedBeforeDeletion(result.issuedAt, found.deletedAt, skew)) return fail("session-of-deleted-account", "account_deleted");
      const { user, created } = found.user ? { user: found.user, created: false } : await ensureUser(s, result.subject, result.email, s.now(), s.config.FREE_CREDITS);
      rememberSession(cacheKey, result, user.id, s.now());
      // The reads were made for the user this token had last time: kept only when the lookup confirms that user.
      if (prefetched && reads && opts.reads && cached?.userId && user.id === cached.userId) {
        keepPrefetched(c, { reads: opts.reads, userId: cached.userId, statements: reads, results: prefetched });
      }
      // A guess that was wrong (another account of this subject) counted nothing for this user: count it below.
      if (guess && guessed && guess.userId === user.id) early = { userId: user.id, decision: guessed };
      else if (guess) unmarkCounted(c, guess.kind);
      if (created) {
        await appendAudit(s.db, { userId: user.id, actor: { type: "user", id: user.id }, action: "account.created", meta }, s.now());
      }
      const role = result.claims["role"] ?? (result.claims["metadata"] as Record<string, unknown> | undefined)?.["role"];
      auth = {
        userId: user.id,
        externalId: result.subject,
        via: "session",
        actorId: user.id,
        scopes: null,
        isAdmin: role === "admin" || role === "engineer" || s.config.ADMIN_USER_IDS.includes(result.subject) || s.config.ENGINEER_USER_IDS.includes(result.subject),
        isEngineer: role === "engineer" || s.config.ENGINEER_USER_IDS.includes(result.subject),
        consent: { version: user.consentVersion, at: user.consentAt },
        factorAges: factorAgesOf(result.claims, s.now()),
      };
    }

    if (opts.scope && !hasScope(auth, opts.scope)) {
      await logSecurityEvent(s.db, "scope_denied", meta, s.now(), { reason: opts.scope, userId: auth.userId, path: c.req.path });
      throw new AppError("insufficient_scope", `This API key lacks the "${opts.scope}" scope.`);
    }
    c.set("auth", auth);
    if (opts.stepUp) requireStepUp(auth);
    if (opts.rateLimit) {
      if (early) await enforceRateLimit(c, opts.rateLimit, early.decision, early.userId);
      else if (markCounted(c, opts.rateLimit)) {
        const limiter = s.rateLimiter ?? bindingRateLimiter(s.env);
        await enforceRateLimit(c, opts.rateLimit, await limiter.limit(opts.rateLimit, credentialRateLimitKey(opts.rateLimit, auth)), auth.userId);
      }
    }
    try {
      await next();
    } finally {
      // Prefetched results serve this pass of the request only.
      forgetPrefetched(c);
    }
  });
}

/** The route's statements for `userId`, or null when they cannot be built before validation. */
function buildReads(reads: RouteReads, s: Services, userId: string, c: Context<AppEnv>): Reads | null {
  try {
    return reads.build(s, userId, c);
  } catch {
    return null;
  }
}

function factorAgesOf(claims: Record<string, unknown>, nowMs: number): readonly [number, number] | null {
  const ages = parseFactorAges(claims["fva"]);
  const iat = claims["iat"];
  return ages ? agesNow(ages, typeof iat === "number" ? iat : null, nowMs) : null;
}

/** Throws 403 `reverification_required` unless this session verified its sign-in recently. */
export function requireStepUp(auth: AuthContext): void {
  if (auth.via !== "session" || !checkStepUp(auth.factorAges ?? null).ok) throw reverificationRequired();
}

/** For handlers whose sensitivity depends on the request (a write-scoped key, a ready export). */
export function requireStepUpFor(c: Context<AppEnv>): void {
  requireStepUp(c.get("auth"));
}

/**
 * Operators only (admin and engineer sessions, `isAdmin` above): anyone else
 * is told the route does not exist, the same 404 as an unknown path.
 */
const operatorsOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("auth").isAdmin) throw new AppError("not_found", "No such route.");
  await next();
});

/** Who may call a route, and which per-credential rate-limit bucket it charges. */
export type Access =
  /** A session or an API key holding `scope` (sessions hold every scope). */
  | { scope: Scope; limit: "read" | "write"; reads?: RouteReads }
  /**
   * A browser session only (API keys get 403 `insufficient_scope`); `stepUp`
   * also needs a recent sign-in check (worker/auth/step-up.ts). `limit: null`
   * charges no per-credential bucket.
   */
  | { session: true; stepUp?: boolean; limit: "read" | "write" | null }
  /** An operator's browser session; anyone else gets 404. */
  | { operator: true; limit: "read" | "write" };

/** An OpenAPI security requirement object, as in the document. */
export type SecurityRequirement = Record<string, string[]>;

/**
 * The security schemes the document declares (registered in worker/app.ts).
 * `bearer` is a session or an API key, its list the API key scope the route
 * needs; `session` is a browser session only, its list the extra roles
 * (`step-up`, `operator`). OpenAPI 3.1 allows role names in the list of a
 * non-OAuth scheme (Security Requirement Object).
 */
export const SECURITY_SCHEMES = {
  bearer: {
    type: "http",
    scheme: "bearer",
    description: "A Clerk session JWT, or an API key `bp_...` created in the app. The list names the scope the API key must hold; sessions hold every scope.",
  },
  session: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A Clerk session JWT only: API keys get 403 `insufficient_scope`. `step-up` in the list: the sign-in must have been verified within the last 10 minutes " +
      "(403 `reverification_required`); `operator`: an operator's session, anyone else gets 404 `not_found`.",
  },
} as const;

export function securityFor(access: Access): SecurityRequirement[] {
  if ("scope" in access) return [{ bearer: [access.scope] }];
  if ("operator" in access) return [{ session: ["operator"] }];
  return [{ session: access.stepUp ? ["step-up"] : [] }];
}

/**
 * A route's authentication, declared in its createRoute: spread the result
 * into the route config, so the middleware that enforces it and the
 * `security` the OpenAPI document shows come from the same `access`
 * (docs/decisions/0027). The chain is requireAuth, the operator check, the
 * rate limit, then `more` (for example requireConsent).
 */
export function authenticated(access: Access, ...more: MiddlewareHandler<AppEnv>[]) {
  // A scoped route counts its limit inside requireAuth: alongside the user
  // lookup when the session token is cached (decision 0026). Session-only and
  // operator routes check the session (step-up, operator role) before they
  // spend a token.
  if ("scope" in access) {
    const opts: AuthOptions = { scope: access.scope, rateLimit: access.limit, ...(access.reads ? { reads: access.reads } : {}) };
    return { security: securityFor(access), middleware: [requireAuth(opts), ...more] };
  }
  const opts: AuthOptions = "operator" in access ? { sessionOnly: true } : { sessionOnly: true, stepUp: access.stepUp === true };
  const middleware: MiddlewareHandler<AppEnv>[] = [requireAuth(opts)];
  if ("operator" in access) middleware.push(operatorsOnly);
  if (access.limit) middleware.push(rateLimit(access.limit));
  middleware.push(...more);
  return { security: securityFor(access), middleware };
}

/**
 * A route without a credential (webhooks, public reads, capability links):
 * `security: []` in the document (an empty list removes the requirement).
 * Its per-IP limit is applied by createApp for PUBLIC_PATHS
 * (worker/lib/openapi.ts) or by `more`.
 */
export function anonymous(...more: MiddlewareHandler<AppEnv>[]) {
  return { security: [] as SecurityRequirement[], middleware: more };
}

/** The 403 problem that is also Clerk's reverification hint (`@clerk/shared/authorization-errors`). */
export function reverificationRequired(): AppError {
  return new AppError("reverification_required", `Confirm it is you: this action needs a sign-in check within the last ${STEP_UP_AFTER_MINUTES} minutes.`, {
    clerk_error: {
      type: "forbidden",
      reason: "reverification-error",
      metadata: { reverification: { level: STEP_UP_LEVEL, afterMinutes: STEP_UP_AFTER_MINUTES } },
    },
  });
}
