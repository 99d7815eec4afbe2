/**
 * "Never log tokens, signatures, keys or image bytes": drive the paths that
 * log on failure (bad session token, bad API key, tampered signed link,
 * forged Creem webhook, refused upload) and check that nothing written to the
 * console carries the credential, the signature, a key or the image bytes.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signedUrlFor } from "../../worker/services/signed-links";
import { insertObjectRow } from "../access/fixtures";
import { checkoutCompleted, hmacHex, postWebhook } from "../billing/helpers";
import { api, services, signIn, tokenFor } from "../helpers";

let lines: string[] = [];

beforeEach(() => {
  lines = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    });
  }
});

afterEach(() => vi.restoreAllMocks());

function secretsOfThisDeployment(): string[] {
  const ring = (json: string | undefined) => Object.values((JSON.parse(json ?? "{}") as { keys?: Record<string, unknown> }).keys ?? {}).map((v) => JSON.stringify(v));
  return [...ring(env.MASTER_KEYS), ...ring(env.URL_SIGNING_KEYS), ...ring(env.HPKE_KEYS), env.CREEM_WEBHOOK_SECRET ?? "", env.FAL_KEY ?? "", env.FAL_ADMIN_KEY ?? ""]
    .map((s) => s.replace(/^"|"$/g, ""))
    .filter((s) => s.length >= 16);
}

function expectNoneLogged(needles: string[]): void {
  const all = lines.join("\n");
  for (const needle of needles) expect(all, `a log line contains a secret (${needle.slice(0, 6)}…)`).not.toContain(needle);
}

describe("logs carry no secrets", () => {
  it("bad session tokens and API keys", async () => {
    const forged = `${(await tokenFor("alice")).slice(0, -10)}AAAAAAAAAA`;
    const key = "bp_" + "x".repeat(43);
    expect((await api("/v1/me", { token: forged })).status).toBe(401);
    expect((await api("/v1/me", { token: key })).status).toBe(401);
    expect(lines.length).toBeGreaterThan(0);
    expectNoneLogged([forged, forged.split(".")[2] ?? forged, key, ...secretsOfThisDeployment()]);
  });

  it("tampered signed links", async () => {
    const userId = await signIn("alice");
    const objectId = await insertObjectRow(userId, "output");
    const link = await signedUrlFor(services(), { objectId, ownerId: userId });
    const url = new URL(link.url);
    const sig = url.searchParams.get("sig") ?? "";
    url.searchParams.set("sig", sig.slice(0, -4) + (sig.endsWith("AAAA") ? "BBBB" : "AAAA"));
    const res = await api(`${url.pathname}${url.search}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(lines.length).toBeGreaterThan(0);
    expectNoneLogged([sig, url.searchParams.get("sig") ?? "", ...secretsOfThisDeployment()]);
  });

  it("forged payment webhooks", async () => {
    const userId = await signIn("bob");
    const body = JSON.stringify(checkoutCompleted({ eventId: "evt_log_1", checkoutId: "ch_log_1", userId }));
    const forgedSig = await hmacHex("not-the-secret-at-all", body);
    expect((await postWebhook(body, { signature: forgedSig })).status).toBe(401);
    expect(lines.length).toBeGreaterThan(0);
    expectNoneLogged([forgedSig, ...secretsOfThisDeployment()]);
  });

  it("refused uploads", async () => {
    await signIn("carol");
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    const res = await api("/v1/photos", {
      user: "carol",
      method: "POST",
      headers: { "content-type": "application/octet-stream", "x-upload-id": crypto.randomUUID(), "x-upload-content-type": "image/jpeg" },
      body: junk,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const b64 = btoa(String.fromCharCode(...junk.subarray(0, 48)));
    const hex = [...junk.subarray(0, 32)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expectNoneLogged([b64.slice(0, 40), hex, ...secretsOfThisDeployment()]);
  });
});
