/**
 * Consent (GDPR Art. 7): the first upload needs the user's confirmation that
 * they have the consent of the people pictured and their acceptance of the
 * current terms version; withdrawing stops all new processing and offers
 * deletion.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, objects, users } from "../../worker/db/schema";
import { TERMS_VERSION } from "../../worker/lib/privacy-facts";
import { api, expectProblem, json, services, signInWithoutConsent } from "../helpers";
import { post, seal } from "../intake/helpers";
import { makeJpeg } from "../pipeline/fake-fal";
import { seedAccount } from "./fixtures";
import { openConsentVersion } from "../../worker/services/users";

const JSON_HEADERS = { "content-type": "application/json" };

async function consent(user: string, body: unknown = { termsVersion: TERMS_VERSION, peopleConsent: true }): Promise<Response> {
  return api("/v1/me/consent", { method: "POST", user, headers: JSON_HEADERS, body: JSON.stringify(body) });
}

async function tryUpload(user: string, userId: string, seed: number): Promise<Response> {
  const sealed = await seal(userId, makeJpeg(300, 300, seed));
  return post(user, sealed.envelope, { uploadId: sealed.uploadId });
}

async function tryGenerate(user: string, parents: [string, string]): Promise<Response> {
  return api("/v1/generations", {
    method: "POST",
    user,
    headers: { ...JSON_HEADERS, "idempotency-key": crypto.randomUUID() },
    body: JSON.stringify({ motherPhotoId: parents[0], fatherPhotoId: parents[1], gender: "girl", ageGroup: "newborn", resemblance: 0.5, images: 1 }),
  });
}

async function photoCount(userId: string): Promise<number> {
  return (await services().db.select().from(objects).where(eq(objects.userId, userId)).all()).length;
}

async function actions(userId: string): Promise<string[]> {
  return (await services().db.select().from(auditLog).where(eq(auditLog.userId, userId)).orderBy(auditLog.seq).all()).map((e) => e.action);
}

describe("consent: happy", () => {
  it("records the terms version and time, shows it on /v1/me, audits it, and then uploads work", async () => {
    const userId = await signInWithoutConsent("con-1");
    expect(await json(await api("/v1/me/consent", { user: "con-1" }))).toEqual({ termsVersion: TERMS_VERSION, consent: null });

    const res = await consent("con-1");
    expect(res.status).toBe(200);
    const body = await json<{ termsVersion: string; consent: { version: string; at: string; current: boolean } }>(res);
    expect(body.consent.version).toBe(TERMS_VERSION);
    expect(body.consent.current).toBe(true);
    expect(Number.isNaN(Date.parse(body.consent.at))).toBe(false);
    const me = await json<{ consent: { version: string; at: string } | null }>(await api("/v1/me", { user: "con-1" }));
    expect(me.consent).toEqual({ version: TERMS_VERSION, at: body.consent.at });
    const row = await services().db.select().from(users).where(eq(users.id, userId)).get();
    expect(row?.consentVersion?.startsWith("bpf1.")).toBe(true);
    expect(await openConsentVersion(services(), userId, row?.consentVersion)).toBe(TERMS_VERSION);
    expect(row?.consentAt).toBe(Date.parse(body.consent.at));
    expect(await actions(userId)).toContain("consent.given");

    expect((await tryUpload("con-1", userId, 1)).status).toBe(201);
  });
});

describe("consent: required before processing", () => {
  it("the first upload is refused with 403 consent_required until consent is given, and nothing is stored", async () => {
    const userId = await signInWithoutConsent("con-2");
    const body = await expectProblem(await tryUpload("con-2", userId, 2), 403, "consent_required");
    expect(body["termsVersion"]).toBe(TERMS_VERSION);
    expect(await photoCount(userId)).toBe(0);
    expect((await consent("con-2")).status).toBe(200);
    expect((await tryUpload("con-2", userId, 3)).status).toBe(201);
    expect(await photoCount(userId)).toBe(1);
  });

  it("consent to older terms no longer counts", async () => {
    const a = await seedAccount("con-3", 61);
    await services().db.update(users).set({ consentVersion: "2000-01-01" }).where(eq(users.id, a.userId));
    const body = await expectProblem(await tryUpload("con-3", a.userId, 4), 403, "consent_required");
    expect(String(body["detail"])).toContain(TERMS_VERSION);
    expect((await json<{ consent: { current: boolean } }>(await api("/v1/me/consent", { user: "con-3" }))).consent.current).toBe(false);
  });
});

describe("consent: withdrawal", () => {
  it("stops uploads and generations at once, keeps the data, and offers deletion", async () => {
    const a = await seedAccount("con-4", 62);
    const before = await photoCount(a.userId);
    const res = await api("/v1/me/consent", { method: "DELETE", user: "con-4" });
    expect(res.status).toBe(200);
    const body = await json<{ consent: null; processing: string; deletion: { method: string; href: string; body: { confirm: string } } }>(res);
    expect(body.consent).toBeNull();
    expect(body.processing).toBe("stopped");
    expect(body.deletion).toMatchObject({ method: "DELETE", href: "/v1/account", body: { confirm: "DELETE" } });

    await expectProblem(await tryUpload("con-4", a.userId, 5), 403, "consent_required");
    await expectProblem(await tryGenerate("con-4", a.photoIds), 403, "consent_required");
    // API keys act for the user: withdrawn consent binds them too.
    await expectProblem(
      await api("/v1/generations", {
        method: "POST",
        token: a.apiKeySecret,
        headers: { ...JSON_HEADERS, "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ motherPhotoId: a.photoIds[0], fatherPhotoId: a.photoIds[1], gender: "girl", ageGroup: "newborn", resemblance: 0.5, images: 1 }),
      }),
      403,
      "consent_required",
    );
    expect(await photoCount(a.userId)).toBe(before);
    expect((await api("/v1/photos", { user: "con-4" })).status).toBe(200);
    expect(await actions(a.userId)).toContain("consent.withdrawn");
  });
});

describe("consent: errors", () => {
  it("rejects another terms version, a missing or false people-consent, and extra fields, listing the field", async () => {
    await signInWithoutConsent("con-5");
    const wrong = await expectProblem(await consent("con-5", { termsVersion: "1999-01-01", peopleConsent: true }), 400, "validation_failed");
    expect(JSON.stringify(wrong["errors"])).toContain("termsVersion");
    const no = await expectProblem(await consent("con-5", { termsVersion: TERMS_VERSION, peopleConsent: false }), 400, "validation_failed");
    expect(JSON.stringify(no["errors"])).toContain("peopleConsent");
    await expectProblem(await consent("con-5", { termsVersion: TERMS_VERSION }), 400, "validation_failed");
    await expectProblem(await consent("con-5", { termsVersion: TERMS_VERSION, peopleConsent: true, admin: true }), 400, "validation_failed");
    await expectProblem(await api("/v1/me/consent", { method: "POST", user: "con-5", headers: JSON_HEADERS, body: "{" }), 400, "bad_request");
    expect((await json<{ consent: unknown }>(await api("/v1/me/consent", { user: "con-5" }))).consent).toBeNull();
  });

  it("an API key cannot give consent on the person's behalf", async () => {
    const a = await seedAccount("con-6", 63);
    await api("/v1/me/consent", { method: "DELETE", user: "con-6" });
    const res = await api("/v1/me/consent", {
      method: "POST",
      token: a.apiKeySecret,
      headers: JSON_HEADERS,
      body: JSON.stringify({ termsVersion: TERMS_VERSION, peopleConsent: true }),
    });
    await expectProblem(res, 403, "insufficient_scope");
    expect((await json<{ consent: unknown }>(await api("/v1/me/consent", { user: "con-6" }))).consent).toBeNull();
  });
});
