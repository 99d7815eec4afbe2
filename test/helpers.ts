/** Shared test helpers: tokens for local users, authed requests, problem checks. */
import { env, SELF } from "cloudflare:test";
import { beforeAll, expect } from "vitest";
import { signLocalSession } from "../worker/auth/local-idp";
import { TERMS_VERSION } from "../worker/lib/privacy-facts";
import { createServices, type Services } from "../worker/services";

export const API = "http://api.test";

export function tokenFor(user: string, opts: { ttlSeconds?: number; nowSeconds?: number; verifiedAtSeconds?: number; claims?: Record<string, unknown> } = {}): Promise<string> {
  const key = env.LOCAL_IDP_PRIVATE_KEY;
  if (!key) throw new Error("LOCAL_IDP_PRIVATE_KEY missing in test env");
  return signLocalSession({ privateKeyPem: key, user, azp: env.APP_ORIGIN, ...opts });
}

export async function api(path: string, init: RequestInit & { user?: string; token?: string } = {}): Promise<Response> {
  const { user, token, ...rest } = init;
  const headers = new Headers(rest.headers);
  const bearer = token ?? (user ? await tokenFor(user) : undefined);
  if (bearer) headers.set("authorization", `Bearer ${bearer}`);
  return SELF.fetch(`${API}${path}`, { ...rest, headers });
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts an RFC 9457 problem with the given status and code; returns the body. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  const body = await json(res);
  expect(body["code"]).toBe(code);
  expect(body["status"]).toBe(status);
  expect(String(body["requestId"])).toMatch(/^req_/);
  return body;
}

export function services(overrides: Partial<Services> = {}): Services {
  return createServices(env, overrides);
}

/** Services whose master key ring holds only the `keep` keys of the test ring, `current` encrypting: a rotation or a retired key. */
export function servicesWithMasterKeys(current: string, keep: string[]): Services {
  const s = services();
  const keys = Object.fromEntries(Object.entries(s.config.MASTER_KEYS.keys).filter(([k]) => keep.includes(k)));
  return { ...s, config: { ...s.config, MASTER_KEYS: { current, keys } } };
}

/** Signs the user in once (creating the row) without giving consent; returns the internal id. */
export async function signInWithoutConsent(user: string): Promise<string> {
  const res = await api("/v1/me", { user });
  expect(res.status).toBe(200);
  return (await json<{ id: string }>(res)).id;
}

/**
 * Signs the user in (creating the row) and, like the SPA before the first
 * upload, gives consent to the current terms through POST /v1/me/consent if
 * not already given. Returns the user's internal id.
 */
export async function signIn(user: string): Promise<string> {
  const res = await api("/v1/me", { user });
  expect(res.status).toBe(200);
  const me = await json<{ id: string; consent: { version: string } | null }>(res);
  if (me.consent?.version !== TERMS_VERSION) {
    const given = await api("/v1/me/consent", {
      method: "POST",
      user,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ termsVersion: TERMS_VERSION, peopleConsent: true }),
    });
    expect(given.status).toBe(200);
  }
  return me.id;
}

/**
 * The file's signed-in test users, by name: a beforeAll hook registered here
 * signs each one in, one after the other, as signIn does, and puts their
 * internal ids on the returned object. Call it before the file's own
 * beforeAll hooks so they run after it and can use the ids.
 */
export function signedInUsers<const Name extends string>(...names: Name[]): Record<Name, string> {
  const ids: Partial<Record<Name, string>> = {};
  beforeAll(async () => {
    for (const name of names) ids[name] = await signIn(name);
  });
  return ids as Record<Name, string>;
}
