/**
 * Authentication attacks (issue: foundation). Every bad credential gets one
 * generic 401 problem and touches no data: no user row is created.
 */
import { env } from "cloudflare:test";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { localSubject } from "../../worker/auth/local-idp";
import { securityLog, users } from "../../worker/db/schema";
import { base64UrlEncode, utf8 } from "../../worker/lib/bytes";
import { findUserByExternalId } from "../../worker/services/users";
import { api, expectProblem, json, services, tokenFor } from "../helpers";

const now = () => Math.floor(Date.now() / 1000);

async function userCount(): Promise<number> {
  const row = await services().db.select({ n: count() }).from(users).get();
  return row?.n ?? 0;
}

async function userExists(sub: string): Promise<boolean> {
  return (await findUserByExternalId(services(), sub)) !== undefined;
}

function splitJwt(token: string): [Record<string, unknown>, Record<string, unknown>] {
  const [h, p] = token.split(".");
  const dec = (s: string | undefined) => JSON.parse(atob((s ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
  return [dec(h), dec(p)];
}

async function rejectedWithoutSideEffects(token: string | null, header?: string): Promise<void> {
  const before = await userCount();
  const headers: Record<string, string> = {};
  if (header !== undefined) headers["authorization"] = header;
  else if (token !== null) headers["authorization"] = `Bearer ${token}`;
  const res = await api("/v1/me", { headers });
  const body = await expectProblem(res, 401, "unauthorized");
  expect(JSON.stringify(body)).not.toContain(token ?? "@@none@@");
  expect(await userCount()).toBe(before);
}

describe("session tokens: happy path", () => {
  it("a valid local token creates the user once and returns it", async () => {
    const res = await api("/v1/me", { user: "alice" });
    expect(res.status).toBe(200);
    const me = await json<{ id: string; credits: number; via: string }>(res);
    expect(me.id).toMatch(/^usr_[0-9a-f]{32}$/);
    expect(me.id).not.toContain("alice");
    expect(me.via).toBe("session");
    expect(me.credits).toBe(Number(env.FREE_CREDITS));
    const again = await json<{ id: string; credits: number }>(await api("/v1/me", { user: "alice" }));
    expect(again.id).toBe(me.id);
    expect(again.credits).toBe(me.credits);
  });
});

describe("session tokens: attacks", () => {
  it("expired token", async () => {
    await rejectedWithoutSideEffects(await tokenFor("mallory1", { nowSeconds: now() - 7200, ttlSeconds: 60 }));
    expect(await userExists(localSubject("mallory1"))).toBe(false);
  });

  it("token not yet valid (nbf in the future)", async () => {
    await rejectedWithoutSideEffects(await tokenFor("mallory2", { claims: { nbf: now() + 600, iat: now() + 600 } }));
  });

  it("token signed by another key", async () => {
    const other = await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    );
    const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", (other as CryptoKeyPair).privateKey)) as ArrayBuffer);
    let bin = "";
    for (const b of pkcs8) bin += String.fromCharCode(b);
    const pem = `-----BEGIN PRIVATE KEY-----\n${btoa(bin)}\n-----END PRIVATE KEY-----`;
    const { signLocalSession } = await import("../../worker/auth/local-idp");
    await rejectedWithoutSideEffects(await signLocalSession({ privateKeyPem: pem, user: "mallory3", azp: env.APP_ORIGIN }));
  });

  it("alg: none", async () => {
    const [, payload] = splitJwt(await tokenFor("mallory4"));
    const forged = `${base64UrlEncode(utf8(JSON.stringify({ alg: "none", typ: "JWT" })))}.${base64UrlEncode(utf8(JSON.stringify(payload)))}.`;
    await rejectedWithoutSideEffects(forged);
  });

  it("HS256 signed with the public key as the HMAC secret", async () => {
    const [, payload] = splitJwt(await tokenFor("mallory5"));
    const input = `${base64UrlEncode(utf8(JSON.stringify({ alg: "HS256", typ: "JWT" })))}.${base64UrlEncode(utf8(JSON.stringify(payload)))}`;
    const key = await crypto.subtle.importKey("raw", utf8(env.CLERK_JWT_KEY ?? ""), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(input)));
    await rejectedWithoutSideEffects(`${input}.${base64UrlEncode(sig)}`);
  });

  it("wrong authorized party (azp)", async () => {
    await rejectedWithoutSideEffects(await tokenFor("mallory6", { claims: { azp: "https://evil.example" } }));
  });

  it("missing azp", async () => {
    await rejectedWithoutSideEffects(await tokenFor("mallory7", { claims: { azp: undefined } }));
  });

  it("tampered payload (sub swapped) keeps the old signature", async () => {
    const token = await tokenFor("mallory8");
    const [h, , s] = token.split(".");
    const [, payload] = splitJwt(token);
    const swapped = base64UrlEncode(utf8(JSON.stringify({ ...payload, sub: localSubject("alice") })));
    await rejectedWithoutSideEffects(`${h}.${swapped}.${s}`);
  });

  it.each([
    ["missing header", undefined],
    ["empty header", ""],
    ["wrong scheme", "Basic YWxpY2U6cGFzcw=="],
    ["bearer without token", "Bearer "],
    ["garbage token", "Bearer not-a-jwt-at-all"],
    ["two tokens", "Bearer a.b.c Bearer d.e.f"],
  ])("%s", async (_name, header) => {
    await rejectedWithoutSideEffects(null, header);
  });

  it("logs failures to the security log without the token", async () => {
    const token = await tokenFor("mallory9", { claims: { azp: "https://evil.example" } });
    await api("/v1/me", { token });
    const rows = await services().db.select().from(securityLog).where(eq(securityLog.kind, "auth_failed")).all();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(JSON.stringify(row)).not.toContain(token.split(".")[2]);
    }
  });
});
