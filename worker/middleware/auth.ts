/**
 * Authentication for every protected route: a Clerk (or local, in
 * development) session JWT, or an integrator API key (`bp_...`). Failures are
 * one generic 401 on the wire (`unauthorized`, or `account_deleted` for a
 * credential of a deleted account); the reason goes to the security log.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { authenticateApiKey, hashApiKey } from "../auth/api-keys";
import { LOCAL_ISSUER } from "../auth/local-idp";
import { verifySession } from "../auth/session";
import { agesNow, checkStepUp, parseFactorAges, sessionAgeMinutes, STEP_UP_AFTER_MINUTES, STEP_UP_LEVEL } from "../auth/step-up";
import { hasScope, type AuthContext, type Scope } from "../auth/types";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { requestMeta } from "../lib/request-meta";
import { bindingRateLimiter, clientIp } from "./rate-limit";
import { appendAudit, recordAudit } from "../services/audit";
import { apiKeyWasDeleted, CLOCK_SKEW_MS, issuedBeforeDeletion } from "../services/deleted-credentials";
import { logSecurityEvent } from "../services/security-log";
import { ensureUser, findSessionUser } from "../services/users";

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
      const result = await verifySession(token, s.config);
      if (!result.ok) return fail(result.reason);
      // The maximum session lifetime (docs/decisions/0014): Clerk ends sessions
      // at its "Maximum lifetime"; this refuses any token that says it is older.
      const age = sessionAgeMinutes(result.claims, s.now());
      if (age === null) return fail("session-age-unknown");
      if (age >= s.config.SESSION_MAX_MINUTES) return fail("session-too-old");
      // A session issued before the account was deleted must not act on it mid-deletion, nor recreate it
      // afterwards (issue 14 §4); one issued after a completed deletion is a new sign-up. Only a first sign-in creates.
      const found = await findSessionUser(s, result.subject, s.now());
      if (found.deleting) return fail("account-being-deleted", "account_deleted");
      const skew = result.claims["iss"] === LOCAL_ISSUER ? 0 : CLOCK_SKEW_MS;
      if (issuedBeforeDeletion(result.issuedAt, found.deletedAt, skew)) return fail("session-of-deleted-account", "account_deleted");
      const { user, created } = found.user ? { user: found.user, created: false } : await ensureUser(s, result.subject, result.email, s.now(), s.config.FREE_CREDITS);
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
    await next();
  });
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
