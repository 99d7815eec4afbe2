/**
 * Every `/v1/me/...` operation of this file: who you are (`/me`), your
 * consent and settings, your in-app notices (issue 16: why a picture was
 * taken down, what of yours an incident touched, a legal demand you may be
 * told about). Consent and settings are changed only from a browser session:
 * an integrator's API key cannot consent on the person's behalf (GDPR
 * Art. 7(1): the controller must be able to show the data subject consented).
 * Support (docs/decisions/0019-support-sessions.md): the user grants or
 * revokes a window in which an engineer's picture request is allowed at once
 * (`/me/support-access`), sees the support sessions open on the account with
 * their picture requests, ends a session, and allows or refuses a request.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { users } from "../db/schema";
import { AppError } from "../errors";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { routeReads } from "../middleware/route-reads";
import { balanceQuery, openUserFields } from "../services/users";
import { userDataKey } from "../services/crypto/keys";
import { authErrors, IdParams, inputErrors, jsonBody, jsonResponse, notFound, problem, stepUpErrors } from "../schemas/common";
import { RETENTION, TERMS_VERSION } from "../lib/privacy-facts";
import { auditActor } from "../services/audit";
import { consentOf, giveConsent, withdrawConsent } from "../services/consent";
import { applyKeepPhotosSetting } from "../services/retention";
import { iso } from "../lib/iso";
import { listNotices, markNoticesRead } from "../services/operator";
import { MAX_GRANT_HOURS, setSupportGrant } from "../services/support";
import { decideByUser, endSessionByUser, openSessionsFor } from "../services/support-sessions";
import { ImageRequestSchema, presentRequest } from "../schemas/support-sessions";


const ConsentSchema = z
  .object({
    termsVersion: z.string().openapi({ description: "The terms version currently in force." }),
    consent: z
      .object({ version: z.string(), at: z.string(), current: z.boolean() })
      .nullable()
      .openapi({ description: "What the user consented to, or null. `current` is false after the terms changed." }),
  })
  .openapi("Consent");

const GiveConsentBody = z
  .object({
    termsVersion: z.string().max(64).openapi({ example: TERMS_VERSION }),
    peopleConsent: z.literal(true).openapi({ description: "I have the consent of the people in the photos I upload." }),
  })
  .strict()
  .openapi("GiveConsent");

const WithdrawnSchema = z
  .object({
    termsVersion: z.string(),
    consent: z.null(),
    processing: z.literal("stopped"),
    deletion: z.object({ method: z.literal("DELETE"), href: z.string(), body: z.object({ confirm: z.literal("DELETE") }), description: z.string() }),
  })
  .openapi("ConsentWithdrawn");

export const KeepDays = z.union([z.literal(0), z.literal(7), z.literal(30)]);

/** The stored keep_photos_days as one of the choices; anything else reads as 0, the default. */
export function keepPhotosDaysOf(stored: number): z.infer<typeof KeepDays> {
  const keep = KeepDays.safeParse(stored);
  return keep.success ? keep.data : 0;
}
const SettingsSchema = z.object({ keepPhotosDays: KeepDays }).openapi("Settings");
const SettingsPatch = z
  .object({
    keepPhotosDays: KeepDays.openapi({
      description: `Days to keep parent photos after their generation finishes (${RETENTION.keepPhotosDaysChoices.join(", ")}).`,
    }),
  })
  .strict()
  .openapi("SettingsPatch");


export const meRoutes = createRouter();

meRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/consent",
    operationId: "getMeConsent",
    tags: ["account"],
    summary: "The consent on record and the current terms version",
    ...authenticated({ session: true, limit: null }),
    responses: { 200: jsonResponse("Consent state", ConsentSchema), ...authErrors },
  }),
  async (c) => {
    const state = await consentOf(c.get("services"), c.get("auth").userId);
    return c.json({ termsVersion: TERMS_VERSION, consent: state ? { version: state.version, at: iso(state.at), current: state.current } : null }, 200);
  },
);

meRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/consent",
    operationId: "postMeConsent",
    tags: ["account"],
    summary: "Confirm consent of the people pictured and accept the current terms",
    description: "Required before the first upload and again after the terms change. Browser sessions only.",
    ...authenticated({ session: true, limit: "write" }),
    request: { body: jsonBody(GiveConsentBody) },
    responses: { 200: jsonResponse("Consent recorded", ConsentSchema), ...inputErrors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    if (body.termsVersion !== TERMS_VERSION) {
      throw new AppError("validation_failed", "The terms were updated; read and accept the current version.", {
        errors: [{ field: "termsVersion", message: `must be the current terms version ${TERMS_VERSION}` }],
        termsVersion: TERMS_VERSION,
      });
    }
    const { s, auth, meta } = ownerContext(c);
    const state = await giveConsent(s, auth.userId, auditActor(auth), meta);
    return c.json({ termsVersion: TERMS_VERSION, consent: { version: state.version, at: iso(state.at), current: true } }, 200);
  },
);

meRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/me/consent",
    operationId: "deleteMeConsent",
    tags: ["account"],
    summary: "Withdraw consent: stops all processing and offers deletion",
    description:
      "New uploads and generations are refused with 403 `consent_required` until consent is given again. Your data stays until you delete it; " +
      "the response says how to delete the account.",
    ...authenticated({ session: true, limit: "write" }),
    responses: { 200: jsonResponse("Consent withdrawn", WithdrawnSchema), ...authErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    await withdrawConsent(s, auth.userId, auditActor(auth), meta);
    return c.json(
      {
        termsVersion: TERMS_VERSION,
        consent: null,
        processing: "stopped" as const,
        deletion: {
          method: "DELETE" as const,
          href: "/v1/account",
          body: { confirm: "DELETE" as const },
          description: "Deletes your account and everything in it now; photos become unreadable at once because their key is destroyed first.",
        },
      },
      200,
    );
  },
);

meRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/settings",
    operationId: "getMeSettings",
    tags: ["account"],
    summary: "Account settings",
    ...authenticated({ session: true, limit: null }),
    responses: { 200: jsonResponse("Settings", SettingsSchema), ...authErrors },
  }),
  async (c) => {
    const row = await c.get("services").db.select({ keep: users.keepPhotosDays }).from(users).where(eq(users.id, c.get("auth").userId)).get();
    if (!row) throw new AppError("not_found");
    return c.json({ keepPhotosDays: keepPhotosDaysOf(row.keep) }, 200);
  },
);

meRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/me/settings",
    operationId: "patchMeSettings",
    tags: ["account"],
    summary: "Change settings (how long parent photos are kept)",
    description:
      "Also re-times parent photos already kept from finished generations, so the new choice applies to them too. " +
      "Needs a sign-in check within the last 10 minutes.",
    ...authenticated({ session: true, stepUp: true, limit: "write" }),
    request: { body: jsonBody(SettingsPatch) },
    responses: { 200: jsonResponse("The new settings", SettingsSchema), ...inputErrors, ...stepUpErrors },
  }),
  async (c) => {
    const { s, auth, audit } = ownerContext(c);
    const { keepPhotosDays } = c.req.valid("json");
    const before = await s.db.select({ keep: users.keepPhotosDays }).from(users).where(eq(users.id, auth.userId)).get();
    if (!before) throw new AppError("not_found");
    await s.db.update(users).set({ keepPhotosDays }).where(eq(users.id, auth.userId));
    const retimed = await applyKeepPhotosSetting(s, auth.userId, keepPhotosDays);
    await audit({ action: "settings.changed", detail: { setting: "keepPhotosDays", from: before.keep, to: keepPhotosDays, photosRetimed: retimed } });
    return c.json({ keepPhotosDays }, 200);
  },
);

export const MeSchema = z
  .object({
    id: z.string().openapi({ example: "usr_9f86d081884c7d659a2feaa0c55ad015" }),
    email: z.string().nullable(),
    createdAt: z.string(),
    credits: z.number().int(),
    generationCost: z.number().int().openapi({ description: "Credits one generation reserves (any number of images), so a client can tell before trying." }),
    keepPhotosDays: KeepDays,
    consent: z.object({ version: z.string(), at: z.string() }).nullable(),
    supportAccessUntil: z.string().nullable(),
    isAdmin: z.boolean(),
    via: z.enum(["session", "api_key"]),
  })
  .openapi("Me");

/** The user's row and balance: read with the user lookup when the session is cached (docs/decisions/0028). */
const meReads = routeReads((s, userId) => [s.db.select().from(users).where(eq(users.id, userId)), balanceQuery(s.db, userId)] as const, { dataKey: true });

meRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    operationId: "getMe",
    tags: ["account"],
    summary: "The signed-in user (created on first use)",
    ...authenticated({ scope: "account:read", limit: "read", reads: meReads }),
    responses: { 200: jsonResponse("The user", MeSchema), ...authErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const auth = c.get("auth");
    // The row and the balance (usually read with the user lookup), while the
    // user's data key (for the sealed email and consent version) loads from R2 alongside.
    const [[[row], balance]] = await Promise.all([meReads.results(c), userDataKey(s, auth.userId, { create: false })]);
    const credits = Number(balance[0]?.total ?? 0);
    if (!row) throw new AppError("not_found");
    const user = await openUserFields(s, row);
    return c.json(
      {
        id: user.id,
        email: user.email,
        createdAt: new Date(user.createdAt).toISOString(),
        credits,
        generationCost: s.config.GENERATION_COST,
        keepPhotosDays: keepPhotosDaysOf(user.keepPhotosDays),
        consent: user.consentVersion && user.consentAt ? { version: user.consentVersion, at: new Date(user.consentAt).toISOString() } : null,
        supportAccessUntil: user.supportAccessUntil ? new Date(user.supportAccessUntil).toISOString() : null,
        isAdmin: auth.isAdmin,
        via: auth.via,
      },
      200,
    );
  },
);

const NoticeSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["takedown", "incident", "legal_demand"]),
    title: z.string(),
    body: z.string(),
    createdAt: z.string(),
    readAt: z.string().nullable(),
  })
  .openapi("Notice");


meRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/notices",
    operationId: "getMeNotices",
    tags: ["account"],
    summary: "Notices from BabyPic to you, newest first (at most 50)",
    ...authenticated({ scope: "account:read", limit: "read" }),
    responses: { 200: jsonResponse("Notices", z.object({ items: z.array(NoticeSchema) })), ...authErrors },
  }),
  async (c) => {
    const rows = await listNotices(c.get("services"), c.get("auth").userId);
    return c.json(
      { items: rows.map((n) => ({ id: n.id, kind: n.kind, title: n.title, body: n.body, createdAt: new Date(n.createdAt).toISOString(), readAt: n.readAt === null ? null : new Date(n.readAt).toISOString() })) },
      200,
    );
  },
);

meRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/notices/read",
    operationId: "postMeNoticesRead",
    tags: ["account"],
    summary: "Mark all your notices read",
    ...authenticated({ session: true, limit: "write" }),
    responses: { 204: { description: "Marked" }, ...authErrors },
  }),
  async (c) => {
    await markNoticesRead(c.get("services"), c.get("auth").userId);
    return c.body(null, 204);
  },
);

// ------------------------------------------------------------------ support

const GrantSchema = z.object({ supportAccessUntil: z.string().nullable() }).openapi("SupportAccess");

meRoutes.openapi(
  createRoute({
    method: "put",
    path: "/me/support-access",
    operationId: "putMeSupportAccess",
    tags: ["account"],
    summary: "Let support see your pictures for a number of hours: an engineer's picture request in a support session is allowed at once during the window",
    description:
      "Browser sessions only, with a sign-in check within the last 10 minutes. Every staff access appears in your activity log with the stated reason.",
    ...authenticated({ session: true, stepUp: true, limit: "write" }),
    request: { body: jsonBody(z.object({ hours: z.number().int().min(1).max(MAX_GRANT_HOURS).openapi({ example: 24 }) })) },
    responses: { 200: jsonResponse("The grant", GrantSchema), ...inputErrors, ...stepUpErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const until = await setSupportGrant(s, auth, c.req.valid("json").hours, meta);
    return c.json({ supportAccessUntil: until === null ? null : new Date(until).toISOString() }, 200);
  },
);

meRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/me/support-access",
    operationId: "deleteMeSupportAccess",
    tags: ["account"],
    summary: "Revoke support access to your photos and results now",
    ...authenticated({ session: true, limit: "write" }),
    responses: { 200: jsonResponse("Revoked", GrantSchema), ...authErrors },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    await setSupportGrant(s, auth, null, meta);
    return c.json({ supportAccessUntil: null }, 200);
  },
);

const MySession = z
  .object({
    id: z.string(),
    reason: z.string(),
    ticket: z.string(),
    openedAt: z.string(),
    expiresAt: z.string(),
    requests: z.array(ImageRequestSchema),
  })
  .openapi("MySupportSession");

const userErrors = { ...authErrors, ...notFound } as const;

meRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/support-sessions",
    operationId: "getMeSupportSessions",
    tags: ["account"],
    summary: "Support sessions open on your account now, with their picture requests",
    ...authenticated({ session: true, limit: "read" }),
    responses: { 200: jsonResponse("Open sessions", z.object({ items: z.array(MySession) })), ...authErrors },
  }),
  async (c) => {
    const found = await openSessionsFor(c.get("services"), c.get("auth").userId);
    return c.json(
      {
        items: found.map(({ session, requests }) => ({
          id: session.id,
          reason: session.reason,
          ticket: session.ticket,
          openedAt: new Date(session.openedAt).toISOString(),
          expiresAt: new Date(session.expiresAt).toISOString(),
          requests: requests.map(presentRequest),
        })),
      },
      200,
    );
  },
);

meRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/support-sessions/{id}/end",
    operationId: "postMeSupportSessionsByIdEnd",
    tags: ["account"],
    summary: "End a support session on your account now",
    ...authenticated({ session: true, limit: "write" }),
    request: { params: IdParams },
    responses: { 200: jsonResponse("Ended", z.object({ id: z.string(), endedAt: z.string() })), ...userErrors, 409: problem("Already ended or expired (`conflict`).") },
  }),
  async (c) => {
    const { s, auth, meta } = ownerContext(c);
    const row = await endSessionByUser(s, auth.userId, c.req.valid("param").id, meta);
    return c.json({ id: row.id, endedAt: new Date(row.endedAt ?? Date.now()).toISOString() }, 200);
  },
);

for (const decision of ["allow", "refuse"] as const) {
  meRoutes.openapi(
    createRoute({
      method: "post",
      path: `/me/support-image-requests/{id}/${decision}`,
      operationId: decision === "allow" ? "postMeSupportImageRequestsByIdAllow" : "postMeSupportImageRequestsByIdRefuse",
      tags: ["account"],
      summary:
        decision === "allow"
          ? "Let the engineer who asked see the pictures of this one generation, until the session ends"
          : "Refuse a support request to see the pictures of a generation",
      description: decision === "allow" ? "Browser sessions only, with a sign-in check within the last 10 minutes." : undefined,
      ...authenticated({ session: true, stepUp: decision === "allow", limit: "write" }),
      request: { params: IdParams },
      responses: {
        200: jsonResponse("Decided", ImageRequestSchema),
        ...userErrors,
        ...(decision === "allow" ? stepUpErrors : {}),
        409: problem("Already decided, or the session has ended or expired (`conflict`)."),
      },
    }),
    async (c) => {
      const { s, auth, meta } = ownerContext(c);
      const row = await decideByUser(s, auth.userId, c.req.valid("param").id, decision === "allow", meta);
      return c.json(presentRequest(row), 200);
    },
  );
}
