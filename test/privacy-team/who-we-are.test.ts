/**
 * Who we are (issue 16, item 5): the controller, DPO and contacts come from
 * configuration and are published by GET /v1/privacy; /.well-known/security.txt
 * follows RFC 9116 with a computed Expires.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import type { Bindings } from "../../worker/env";
import { SECURITY_TXT_DAYS, type WhoWeAre } from "../../worker/lib/who-we-are";
import { api, json } from "../helpers";

const OTHER = {
  CONTROLLER_NAME: "Other Controller Ltd (development example)",
  CONTROLLER_ADDRESS: "2 Other Road, 1000 Othertown (development example)",
  DPO_NAME: "Olga Other (development example)",
  DPO_EMAIL: "dpo@other.example",
  PRIVACY_EMAIL: "privacy@other.example",
  SECURITY_EMAIL: "security@other.example",
} satisfies Partial<Bindings>;

describe("who we are: happy", () => {
  it("GET /v1/privacy names the configured controller, address, DPO and contacts", async () => {
    const body = await json<WhoWeAre>(await api("/v1/privacy"));
    expect(body.controller).toEqual({ name: env.CONTROLLER_NAME, address: env.CONTROLLER_ADDRESS });
    expect(body.dpo).toEqual({ name: env.DPO_NAME, email: env.DPO_EMAIL });
    expect(body.privacyContact).toEqual({ email: env.PRIVACY_EMAIL });
    expect(body.securityContact).toEqual({ email: env.SECURITY_EMAIL });
  });

  it("the values are configuration, not code: other vars give other answers", async () => {
    const res = await createApp().request("/v1/privacy", {}, { ...env, ...OTHER });
    const body = (await res.json()) as WhoWeAre;
    expect(body.controller.name).toBe(OTHER.CONTROLLER_NAME);
    expect(body.dpo.email).toBe(OTHER.DPO_EMAIL);
    expect(body.privacyContact.email).toBe(OTHER.PRIVACY_EMAIL);
  });

  it("the local development values say they are examples", () => {
    for (const v of [env.CONTROLLER_NAME, env.CONTROLLER_ADDRESS, env.DPO_NAME, env.DPO_EMAIL, env.PRIVACY_EMAIL, env.SECURITY_EMAIL]) expect(v).toMatch(/example/i);
  });
});

describe("security.txt (RFC 9116)", () => {
  it("has Contact, Expires (computed, less than a year ahead), Policy, Preferred-Languages and Canonical", async () => {
    const res = await api("/.well-known/security.txt");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; charset=utf-8/i);
    const text = await res.text();
    const fields = new Map(text.trim().split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as const));
    expect(fields.get("Contact")).toBe(`mailto:${env.SECURITY_EMAIL}`);
    expect(fields.get("Policy")).toBe(`${env.APP_ORIGIN}/security/disclosure`);
    expect(fields.get("Preferred-Languages")).toBe("en");
    expect(fields.get("Canonical")).toBe(`${env.PUBLIC_API_URL}/.well-known/security.txt`);
    const expires = Date.parse(fields.get("Expires") ?? "");
    const ahead = expires - Date.now();
    expect(ahead).toBeGreaterThan((SECURITY_TXT_DAYS - 1) * 86_400_000);
    expect(ahead).toBeLessThan(365 * 86_400_000);
  });

  it("Expires moves with the clock (it is computed per request, never stale)", async () => {
    const app = createApp();
    const a = await (await app.request("/.well-known/security.txt", {}, env)).text();
    expect(a).toMatch(/^Expires: \d{4}-\d\d-\d\dT00:00:00\.000Z$/m);
    const later = await (await app.request("/.well-known/security.txt", {}, { ...env, ...OTHER })).text();
    expect(later).toContain("Contact: mailto:security@other.example");
  });
});
