/**
 * `/v1/me/consent` and `/v1/me/settings`. Consent and settings are changed
 * only from a browser session: an integrator's API key cannot consent on the
 * person's behalf (GDPR Art. 7(1): the controller must be able to show the
 * data subject consented).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { users } from "../db/schema";
import { AppError } from "../errors";
import { RETENTION, TERMS_VERSION } from "../lib/privacy-facts";
import { requestMeta } from "../lib/request-meta";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { appendAudit, auditActor } from "../services/audit";
import { consentOf, giveConsent, withdrawConsent } from "../services/consent";
import { applyKeepPhotosSetting } from "../services/retention";
import { authErrors, badRequest, stepUpErrors } from "../schemas/common";
import { iso } from "../lib/iso";

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

export const meSettingsRoutes = createRouter();

meSettingsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/consent",
    operationId: "getMeConsent",
    tags: ["account"],
    summary: "The consent on record and the current terms version",
    ...authenticated({ session: true, limit: null }),
    responses: { 200: { description: "Consent state", content: { "application/json": { schema: ConsentSchema } } }, ...authErrors },
  }),
  async (c) => {
    const state = await consentOf(c.get("services"), c.get("auth").userId);
    return c.json({ termsVersion: TERMS_VERSION, consent: state ? { version: state.version, at: iso(state.at), current: state.current } : null }, 200);
  },
);

meSettingsRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/consent",
    operationId: "postMeConsent",
    tags: ["account"],
    summary: "Confirm consent of the people pictured and accept the current terms",
    description: "Required before the first upload and again after the terms change. Browser sessions only.",
    ...authenticated({ session: true, limit: "write" }),
    request: { body: { content: { "application/json": { schema: GiveConsentBody } }, required: true } },
    responses: {
      200: { description: "Consent recorded", content: { "application/json": { schema: ConsentSchema } } },
      ...badRequest,
      ...authErrors,
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    if (body.termsVersion !== TERMS_VERSION) {
      throw new AppError("validation_failed", "The terms were updated; read and accept the current version.", {
        errors: [{ field: "termsVersion", message: `must be the current terms version ${TERMS_VERSION}` }],
        termsVersion: TERMS_VERSION,
      });
    }
    const auth = c.get("auth");
    const state = await giveConsent(c.get("services"), auth.userId, auditActor(auth), requestMeta(c.req.raw, c.get("requestId")));
    return c.json({ termsVersion: TERMS_VERSION, consent: { version: state.version, at: iso(state.at), current: true } }, 200);
  },
);

meSettingsRoutes.openapi(
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
    responses: { 200: { description: "Consent withdrawn", content: { "application/json": { schema: WithdrawnSchema } } }, ...authErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    await withdrawConsent(c.get("services"), auth.userId, auditActor(auth), requestMeta(c.req.raw, c.get("requestId")));
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

meSettingsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/settings",
    operationId: "getMeSettings",
    tags: ["account"],
    summary: "Account settings",
    ...authenticated({ session: true, limit: null }),
    responses: { 200: { description: "Settings", content: { "application/json": { schema: SettingsSchema } } }, ...authErrors },
  }),
  async (c) => {
    const row = await c.get("services").db.select({ keep: users.keepPhotosDays }).from(users).where(eq(users.id, c.get("auth").userId)).get();
    if (!row) throw new AppError("not_found");
    return c.json({ keepPhotosDays: keepPhotosDaysOf(row.keep) }, 200);
  },
);

meSettingsRoutes.openapi(
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
    request: { body: { content: { "application/json": { schema: SettingsPatch } }, required: true } },
    responses: {
      200: { description: "The new settings", content: { "application/json": { schema: SettingsSchema } } },
      ...badRequest,
      ...authErrors,
      ...stepUpErrors,
    },
  }),
  async (c) => {
    const s = c.get("services");
    const auth = c.get("auth");
    const { keepPhotosDays } = c.req.valid("json");
    const before = await s.db.select({ keep: users.keepPhotosDays }).from(users).where(eq(users.id, auth.userId)).get();
    if (!before) throw new AppError("not_found");
    await s.db.update(users).set({ keepPhotosDays }).where(eq(users.id, auth.userId));
    const retimed = await applyKeepPhotosSetting(s, auth.userId, keepPhotosDays);
    await appendAudit(
      s.db,
      {
        userId: auth.userId,
        actor: auditActor(auth),
        action: "settings.changed",
        detail: { setting: "keepPhotosDays", from: before.keep, to: keepPhotosDays, photosRetimed: retimed },
        meta: requestMeta(c.req.raw, c.get("requestId")),
      },
      s.now(),
    );
    return c.json({ keepPhotosDays }, 200);
  },
);
