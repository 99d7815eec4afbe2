/** The Worker refuses to run with the local identity provider outside development. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import type { Bindings } from "../../worker/env";
import { loadConfig } from "../../worker/env";

function withEnv(overrides: Partial<Bindings>): Bindings {
  return { ...env, ...overrides };
}

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
    const res = await app.request("/v1/dev/session", { method: "POST", body: JSON.stringify({ user: "alice" }), headers: { "content-type": "application/json" } }, withEnv({ ENVIRONMENT: "staging", LOCAL_IDP_PRIVATE_KEY: undefined }));
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
    const prod = { ENVIRONMENT: "production", LOCAL_IDP_PRIVATE_KEY: undefined, PUBLIC_API_URL: "https://api.example", CLERK_SECRET_KEY: "sk_live_x" };
    expect(() => loadConfig(withEnv({ ...prod, FAL_ADMIN_KEY: undefined }))).toThrow(/FAL_ADMIN_KEY is required in production/);
    expect(() => loadConfig(withEnv({ ...prod, FAL_ADMIN_KEY: env.FAL_KEY }))).toThrow(/FAL_ADMIN_KEY must be a separate admin-scoped key/);
    expect(loadConfig(withEnv(prod)).FAL_ADMIN_KEY).toBe(env.FAL_ADMIN_KEY);
  });

  it("production refuses a public API address that is not https (signed links would travel in the clear)", () => {
    expect(() => loadConfig(withEnv({ ENVIRONMENT: "production", LOCAL_IDP_PRIVATE_KEY: undefined, PUBLIC_API_URL: "http://api.example" }))).toThrow(
      /PUBLIC_API_URL must be https in production/,
    );
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
    const staging = await paths(withEnv({ ENVIRONMENT: "staging", LOCAL_IDP_PRIVATE_KEY: undefined }));
    expect(staging.filter((p) => p.startsWith("/v1/dev/"))).toEqual([]);
    expect(staging).toContain("/v1/generations");
  });
});
