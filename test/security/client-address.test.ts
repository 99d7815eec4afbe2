/**
 * Per-IP limits key on the address the platform gives the Worker
 * (`CF-Connecting-IP`, set by Cloudflare's edge) and on nothing a client
 * chooses; a request without an address is counted on a key of its own,
 * never pooled with every other address-less request (worker/lib/client-address.ts).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import type { Bindings } from "../../worker/env";
import { clientAddress, ipBucket, ipv6Groups } from "../../worker/lib/client-address";
import { fakeRateLimit } from "../fake-rate-limit";
import { API, expectProblem } from "../helpers";

function appWith(rl: RateLimit) {
  const app = createApp();
  const bindings: Bindings = { ...env, RL_IP: rl };
  return (path: string, headers: Record<string, string> = {}) => app.request(`${API}${path}`, { headers }, bindings);
}

const req = (headers: Record<string, string>) => new Request(`${API}/v1/health`, { headers });

describe("client address (happy)", () => {
  it("reads CF-Connecting-IP when it is an IP literal", () => {
    expect(clientAddress(req({ "cf-connecting-ip": "203.0.113.5" }))).toBe("203.0.113.5");
    expect(clientAddress(req({ "cf-connecting-ip": "2001:DB8::1" }))).toBe("2001:db8::1");
    expect(ipv6Groups("::ffff:192.0.2.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
    expect(ipv6Groups("2001:db8:0:1:2:3:4:5")).toEqual([0x2001, 0xdb8, 0, 1, 2, 3, 4, 5]);
  });

  it("an address has its own budget, and IPv6 counts per /64", async () => {
    const rl = fakeRateLimit(1);
    const call = appWith(rl.binding);
    expect((await call("/v1/health", { "cf-connecting-ip": "203.0.113.5" })).status).toBe(200);
    await expectProblem(await call("/v1/health", { "cf-connecting-ip": "203.0.113.5" }), 429, "rate_limited");
    expect((await call("/v1/health", { "cf-connecting-ip": "203.0.113.6" })).status).toBe(200);
    expect((await call("/v1/health", { "cf-connecting-ip": "2001:db8:1:2::a" })).status).toBe(200);
    // Another address in the same /64 shares that budget.
    await expectProblem(await call("/v1/health", { "cf-connecting-ip": "2001:db8:1:2:ffff::b" }), 429, "rate_limited");
    expect(rl.keys).toEqual(["ip:203.0.113.5", "ip:203.0.113.5", "ip:203.0.113.6", "ip:2001:db8:1:2::/64", "ip:2001:db8:1:2::/64"]);
  });
});

describe("client address (security)", () => {
  it("requests without an address are never pooled: each is counted on its own key", async () => {
    const rl = fakeRateLimit(1);
    const call = appWith(rl.binding);
    for (let i = 0; i < 3; i++) expect((await call("/v1/health")).status).toBe(200);
    expect(rl.keys).toHaveLength(3);
    expect(new Set(rl.keys).size).toBe(3);
    for (const key of rl.keys) expect(key).toMatch(/^ip:anon:req_/);
  });

  it("client-chosen headers (X-Forwarded-For, X-Real-IP, True-Client-IP) are never an address", async () => {
    const rl = fakeRateLimit(1);
    const call = appWith(rl.binding);
    const spoof = { "x-forwarded-for": "198.51.100.1", "x-real-ip": "198.51.100.1", "true-client-ip": "198.51.100.1", forwarded: "for=198.51.100.1" };
    expect((await call("/v1/health", spoof)).status).toBe(200);
    expect((await call("/v1/health", spoof)).status).toBe(200);
    expect(rl.keys.every((k) => k.startsWith("ip:anon:req_"))).toBe(true);
    expect(clientAddress(req(spoof))).toBeNull();
  });

  it("a CF-Connecting-IP that is not an IP literal counts as no address", () => {
    for (const bad of ["unknown", "", "1.2.3.4, 5.6.7.8", "256.1.1.1", "1.2.3", "::1::2", "2001:db8::g", "a".repeat(60)]) {
      expect(clientAddress(req({ "cf-connecting-ip": bad }))).toBeNull();
      expect(ipBucket(req({ "cf-connecting-ip": bad }), "req_x")).toBe("anon:req_x");
    }
  });

  it("failed authentications without an address are not pooled either", async () => {
    const rl = fakeRateLimit(1);
    const call = appWith(rl.binding);
    for (let i = 0; i < 3; i++) await expectProblem(await call("/v1/me", { authorization: "Bearer not-a-valid-token" }), 401, "unauthorized");
    const authfail = rl.keys.filter((k) => k.startsWith("authfail:"));
    expect(authfail).toHaveLength(3);
    expect(new Set(authfail).size).toBe(3);
    expect(authfail.every((k) => k.startsWith("authfail:anon:req_"))).toBe(true);
  });
});
