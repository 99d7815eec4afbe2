/**
 * Consent (GDPR Art. 7 and Art. 9(2)(a): photos of faces are biometric-adjacent
 * and the people pictured are not always the user). Before any upload or
 * generation the user confirms they have the consent of the people pictured
 * and accepts the current terms version; we store the version and the time.
 * Withdrawing clears both, which stops processing at once (Art. 7(3)).
 */
import { eq } from "drizzle-orm";
import { users } from "../db/schema";
import { TERMS_VERSION } from "../lib/privacy-facts";
import type { RequestMeta } from "../lib/request-meta";
import { appendAudit, type AuditEvent } from "./audit";
import { openConsentVersion, sealConsentVersion } from "./users";
import type { Services } from "./types";

export interface ConsentState {
  version: string;
  at: number;
  current: boolean;
}

export function consentFrom(version: string | null | undefined, at: number | null | undefined): ConsentState | null {
  if (!version || at === null || at === undefined) return null;
  return { version, at, current: version === TERMS_VERSION };
}

export async function consentOf(s: Services, userId: string): Promise<ConsentState | null> {
  const row = await s.db.select({ v: users.consentVersion, at: users.consentAt }).from(users).where(eq(users.id, userId)).get();
  return consentFrom(await openConsentVersion(s, userId, row?.v), row?.at);
}

/** True if the user has consented to the current terms; processing needs this. */
export async function hasCurrentConsent(s: Services, userId: string): Promise<boolean> {
  return (await consentOf(s, userId))?.current === true;
}

type Actor = AuditEvent["actor"];

export async function giveConsent(s: Services, userId: string, actor: Actor, meta: RequestMeta): Promise<ConsentState> {
  const at = s.now();
  await s.db.update(users).set({ consentVersion: await sealConsentVersion(s, userId, TERMS_VERSION), consentAt: at }).where(eq(users.id, userId));
  await appendAudit(s.db, { userId, actor, action: "consent.given", detail: { termsVersion: TERMS_VERSION, peopleConsent: true }, meta }, at);
  return { version: TERMS_VERSION, at, current: true };
}

export async function withdrawConsent(s: Services, userId: string, actor: Actor, meta: RequestMeta): Promise<void> {
  const before = await consentOf(s, userId);
  await s.db.update(users).set({ consentVersion: null, consentAt: null }).where(eq(users.id, userId));
  await appendAudit(s.db, { userId, actor, action: "consent.withdrawn", detail: { termsVersion: before?.version ?? null }, meta }, s.now());
}
