/** The consent gate of the HTTP layer; the consent rules are worker/services/consent.ts. */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { TERMS_VERSION } from "../lib/privacy-facts";
import { consentFrom, consentOf } from "../services/consent";
import { openConsentVersion } from "../services/users";

/**
 * Route middleware for anything that starts processing photos (uploads,
 * generations). Put it after requireAuth. Refuses with 403 `consent_required`
 * when consent is missing, withdrawn or given to older terms.
 */
export const requireConsent = createMiddleware<AppEnv>(async (c, next) => {
  const auth = c.get("auth");
  // A session's user row was read by requireAuth; an API key's owner is read here.
  const s = c.get("services");
  const state = auth.consent ? consentFrom(await openConsentVersion(s, auth.userId, auth.consent.version), auth.consent.at) : await consentOf(s, auth.userId);
  if (!state?.current) {
    throw new AppError(
      "consent_required",
      state
        ? `Terms changed to version ${TERMS_VERSION}; confirm them again with POST /v1/me/consent before uploading or generating.`
        : "Confirm you have the consent of the people pictured and accept the terms with POST /v1/me/consent first.",
      { termsVersion: TERMS_VERSION, consentUrl: "/v1/me/consent" },
    );
  }
  await next();
});
