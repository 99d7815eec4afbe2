/**
 * POST /v1/webhooks/clerk: Svix-signed (Standard Webhooks) `user.deleted`
 * runs the account deletion; anything unsigned, stale, signed with another
 * secret or altered after signing is a 401 that changes nothing.
 */
import { env } from "cloudflare:test";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { securityLog, users } from "../../worker/db/schema";
import { base64Decode, base64Encode, utf8 } from "../../worker/lib/bytes";
import { api, expectProblem, json, services } from "../helpers";
import { seedAccount } from "./fixtures";

async function sign(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", base64Decode(secret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, utf8(`${id}.${timestamp}.${body}`));
  return `v1,${base64Encode(new Uint8Array(mac))}`;
}

function secret(): string {
  const s = env.CLERK_WEBHOOK_SECRET;
  if (!s) throw new Error("CLERK_WEBHOOK_SECRET missing in test env");
  return s;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function userDeleted(clerkId: string): string {
  return JSON.stringify({ type: "user.deleted", object: "event", data: { id: clerkId, object: "user", deleted: true }, timestamp: Date.now() });
}

async function deliver(body: string, headers: Record<string, string>): Promise<Response> {
  return api("/v1/webhooks/clerk", { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

async function signedHeaders(body: string, opts: { id?: string; timestamp?: number; secret?: string } = {}): Promise<Record<string, string>> {
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const ts = opts.timestamp ?? nowSeconds();
  return { "svix-id": id, "svix-timestamp": String(ts), "svix-signature": await sign(opts.secret ?? secret(), id, ts, body) };
}

async function userExists(userId: string): Promise<boolean> {
  return (await services().db.select().from(users).where(eq(users.id, userId)).get()) !== undefined;
}

async function signatureFailures(): Promise<number> {
  return (await services().db.select({ n: count() }).from(securityLog).where(eq(securityLog.kind, "signature_failed")).get())?.n ?? 0;
}

describe("clerk webhook: happy", () => {
  it("user.deleted with a valid signature deletes the account", async () => {
    const a = await seedAccount("hook-1", 21);
    const body = userDeleted(a.externalId);
    const res = await deliver(body, await signedHeaders(body));
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ received: true, outcome: "deleted" });
    expect(await userExists(a.userId)).toBe(false);
  });

  it("a redelivery of the same message is acknowledged as a duplicate", async () => {
    const a = await seedAccount("hook-2", 22);
    const body = userDeleted(a.externalId);
    const headers = await signedHeaders(body);
    expect(await json(await deliver(body, headers))).toMatchObject({ outcome: "deleted" });
    expect(await json(await deliver(body, headers))).toMatchObject({ outcome: "duplicate" });
  });

  it("acknowledges unknown identities and other event types without acting", async () => {
    const a = await seedAccount("hook-3", 23);
    const unknown = userDeleted("user_nobody_here");
    expect(await json(await deliver(unknown, await signedHeaders(unknown)))).toMatchObject({ outcome: "unknown_user" });
    const updated = JSON.stringify({ type: "user.updated", object: "event", data: { id: a.externalId } });
    expect(await json(await deliver(updated, await signedHeaders(updated)))).toMatchObject({ outcome: "ignored" });
    expect(await userExists(a.userId)).toBe(true);
  });
});

describe("clerk webhook: signature attacks", () => {
  it("unsigned: 401, nothing deleted, logged", async () => {
    const a = await seedAccount("hook-4", 24);
    const before = await signatureFailures();
    const body = userDeleted(a.externalId);
    await expectProblem(await deliver(body, {}), 401, "invalid_signature");
    const { "svix-signature": _sig, ...noSig } = await signedHeaders(body);
    void _sig;
    await expectProblem(await deliver(body, noSig), 401, "invalid_signature");
    expect(await userExists(a.userId)).toBe(true);
    expect(await signatureFailures()).toBe(before + 2);
  });

  it("stale timestamp (replay older than 5 minutes) and far-future timestamp: 401", async () => {
    const a = await seedAccount("hook-5", 25);
    const body = userDeleted(a.externalId);
    await expectProblem(await deliver(body, await signedHeaders(body, { timestamp: nowSeconds() - 600 })), 401, "invalid_signature");
    await expectProblem(await deliver(body, await signedHeaders(body, { timestamp: nowSeconds() + 600 })), 401, "invalid_signature");
    expect(await userExists(a.userId)).toBe(true);
  });

  it("signed with the wrong secret: 401", async () => {
    const a = await seedAccount("hook-6", 26);
    const body = userDeleted(a.externalId);
    const wrong = `whsec_${base64Encode(crypto.getRandomValues(new Uint8Array(24)))}`;
    await expectProblem(await deliver(body, await signedHeaders(body, { secret: wrong })), 401, "invalid_signature");
    expect(await userExists(a.userId)).toBe(true);
  });

  it("body altered after signing (another user's id swapped in): 401", async () => {
    const victim = await seedAccount("hook-7", 27);
    const original = userDeleted("user_attacker_own");
    const headers = await signedHeaders(original);
    const altered = original.replace("user_attacker_own", victim.externalId);
    await expectProblem(await deliver(altered, headers), 401, "invalid_signature");
    // The svix id is part of the MAC input too: reusing a signature under another id fails.
    await expectProblem(await deliver(original, { ...headers, "svix-id": "msg_other" }), 401, "invalid_signature");
    expect(await userExists(victim.userId)).toBe(true);
  });

  it("an oversized body is refused before verification (413)", async () => {
    const body = JSON.stringify({ type: "user.deleted", data: { id: "user_x" }, pad: "x".repeat(300 * 1024) });
    await expectProblem(await deliver(body, await signedHeaders(body)), 413, "payload_too_large");
  });

  it("the error never echoes the signature", async () => {
    const body = userDeleted("user_x");
    const headers = await signedHeaders(body, { timestamp: nowSeconds() - 3600 });
    const problem = await expectProblem(await deliver(body, headers), 401, "invalid_signature");
    expect(JSON.stringify(problem)).not.toContain(headers["svix-signature"]?.slice(3) ?? "@@");
  });
});
