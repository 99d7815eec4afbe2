/** The Worker refuses to run with the local identity provider outside development. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import type { Bindings } from "../../worker/env";
import { loadConfig } from "../../worker/env";

function withEnv(overrides: Partial<Bindings>): Bindings {
  return { ...env, ...overrides };
}

/** Who-we-are values a deployment could publish (no "example" marker). */
const DEPLOYED_WHO = {
  CONTROLLER_NAME: "BabyPic Test GmbH",
  CONTROLLER_ADDRESS: "Hauptstrasse 1, 10115 Berlin, Germany",
  DPO_NAME: "Dana Schmidt",
  DPO_EMAIL: "dpo@babypic.test",
  PRIVACY_EMAIL: "privacy@babypic.test",
  SECURITY_EMAIL: "security@babypic.test",
} satisfies Partial<Bindings>;

describe("configuration check", () => {
  it("refuses the local identity provider in production", () => {
    expect(() => loadConfig(withEnv({ ENVIRONMENT: "production", PUBLIC_API_URL: "https://api.example" }))).toThrow(/LOCAL_IDP_PRIVATE_KEY is set but ENVIRONMENT is production/);
  });

  it("refuses it in staging too, and every request fails closed", async () => {
    const app = createApp();
    const res = await app.request("/v1/dev/session", { method: "POST", body: JSON.stringify({ user: "alice" }), headers: { "content-type": "application/json" } }, withEnv({ ENVIRONMENT: "staging" }));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { code: string; detail?: string };
    expect(body.code).toBe("misconfigured");
    expect(JSON.stringify(body)).not.toContain("PRIVATE");
  });

  it("names a missing secret", () => {
    expect(() => loadConfig(withEnv({ MASTER_KEYS: undefined }))).toThrow(/MASTER_KEYS is missing/);
  });

  it("requires the lookup HMAC key as 32 random bytes", () => {
    expect(() => loadConfig(withEnv({ LOOKUP_HMAC_KEY: undefined }))).toThrow(/LOOKUP_HMAC_KEY is missing/);
    expect(() => loadConfig(withEnv({ LOOKUP_HMAC_KEY: btoa("short") }))).toThrow(/LOOKUP_HMAC_KEY must be 32 random bytes/);
  });

  it("without the local key, dev routes do not exist outside development", async () => {
    const app = createApp();
    const res = await app.request("/v1/dev/session", { method: "POST", body: JSON.stringify({ user: "alice" }), headers: { "content-type": "application/json" } }, withEnv({ ENVIRONMENT: "staging", LOCAL_IDP_PRIVATE_KEY: undefined, ...DEPLOYED_WHO }));
    expect(res.status).toBe(404);
  });

  it("in development the local provider mints tokens that verify", async () => {
    const app = createApp();
    const res = await app.request("/v1/dev/session", { method: "POST", body: JSON.stringify({ user: "bob" }), headers: { "content-type": "application/json" } }, env);
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const me = await app.request("/v1/me", { headers: { authorization: `Bearer ${token}` } }, env);
    expect(me.status).toBe(200);
  });

  it("production requires its provider secrets", () => {
    expect(() =>
      loadConfig(withEnv({ ENVIRONMENT: "production", LOCAL_IDP_PRIVATE_KEY: undefined, PUBLIC_API_URL: "https://api.example", FAL_KEY: undefined })),
    ).toThrow(/FAL_KEY is required in production/);
  });

  it("production requires a separate admin-scoped Fal key for payload deletion (least privilege)", () => {
    const prod = { ...DEPLOYED_WHO, ENVIRONMENT: "production", LOCAL_IDP_PRIVATE_KEY: undefined, PUBLIC_API_URL: "https://api.example", CLERK_SECRET_KEY: "sk_live_x" };
    expect(() => loadConfig(withEnv({ ...prod, FAL_ADMIN_KEY: undefined }))).toThrow(/FAL_ADMIN_KEY is required in production/);
    expect(() => loadConfig(withEnv({ ...prod, FAL_ADMIN_KEY: env.FAL_KEY }))).toThrow(/FAL_ADMIN_KEY must be a separate admin-scoped key/);
    expect(loadConfig(withEnv(prod)).FAL_ADMIN_KEY).toBe(env.FAL_ADMIN_KEY);
  });

  it("a deployment refuses a local development user as engineer (local carol is one in development only)", () => {
    const prod = { ...DEPLOYED_WHO, ENVIRONMENT: "production", LOCAL_IDP_PRIVATE_KEY: undefined, PUBLIC_API_URL: "https://api.example", CLERK_SECRET_KEY: "sk_live_x" } as const;
    expect(() => loadConfig(withEnv({ ...prod, ENGINEER_USER_IDS: "user_abc,user_local_carol" }))).toThrow(/ENGINEER_USER_IDS names a local development user/);
    expect(() => loadConfig(withEnv({ ...prod, ENVIRONMENT: "staging", ENGINEER_USER_IDS: "user_local_carol" }))).toThrow(/ENGINEER_USER_IDS names a local development user/);
    expect(loadConfig(withEnv({ ...prod, ENGINEER_USER_IDS: "user_2abc" })).ENGINEER_USER_IDS).toEqual(["user_2abc"]);
    expect(loadConfig(withEnv({ ENVIRONMENT: "development", ENGINEER_USER_IDS: "user_local_carol" })).ENGINEER_USER_IDS).toEqual(["user_local_carol"]);
  });

  it("production refuses a public API address that is not https (signed links would travel in the clear)", () => {
    expect(() => loadConfig(withEnv({ ENVIRONMENT: "production", LOCAL_IDP_PRIVATE_KEY: undefined, PUBLIC_API_URL: "http://api.example" }))).toThrow(
      /PUBLIC_API_URL must be https in production/,
    );
  });
});

describe("who we are (GDPR Art. 13(1)(a)-(b)) is configuration", () => {
  const production = { ENVIRONMENT: "production", LOCAL_IDP_PRIVATE_KEY: undefined, PUBLIC_API_URL: "https://api.example" } as const;

  it("production refuses to run without each of the controller, DPO and contact values", () => {
    for (const name of Object.keys(DEPLOYED_WHO) as (keyof typeof DEPLOYED_WHO)[]) {
      expect(() => loadConfig(withEnv({ ...production, ...DEPLOYED_WHO, [name]: "" })), name).toThrow(new RegExp(`${name} is missing`));
    }
    const secrets = { CLERK_SECRET_KEY: "sk_test_x", CLERK_WEBHOOK_SECRET: "whsec_x", CREEM_WEBHOOK_SECRET: "creem_whsec_x" };
    expect(() => loadConfig(withEnv({ ...production, ...DEPLOYED_WHO, ...secrets }))).not.toThrow();
  });

  it("production and staging refuse the development example values", () => {
    expect(() => loadConfig(withEnv({ ...production }))).toThrow(/CONTROLLER_NAME is a development example; set the real value for production/);
    expect(() => loadConfig(withEnv({ ENVIRONMENT: "staging", LOCAL_IDP_PRIVATE_KEY: undefined }))).toThrow(/DPO_EMAIL is a development example/);
  });

  it("an email contact must be an email address", () => {
    expect(() => loadConfig(withEnv({ ...production, ...DEPLOYED_WHO, PRIVACY_EMAIL: "call us" }))).toThrow(/PRIVACY_EMAIL must be an email address/);
  });
});

describe("OpenAPI document per environment", () => {
  const paths = async (bindings: Bindings) => {
    const res = await createApp().request("/v1/openapi.json", {}, bindings);
    expect(res.status).toBe(200);
    return Object.keys(((await res.json()) as { paths: Record<string, unknown> }).paths);
  };

  it("describes the development-only routes only in development", async () => {
    const dev = await paths(env);
    expect(dev).toContain("/v1/dev/session");
    const staging = await paths(withEnv({ ENVIRONMENT: "staging", LOCAL_IDP_PRIVATE_KEY: undefined, ...DEPLOYED_WHO }));
    expect(staging.filter((p) => p.startsWith("/v1/dev/"))).toEqual([]);
    expect(staging).toContain("/v1/generations");
  });
});
