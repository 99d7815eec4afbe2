/** GET /v1/privacy: public, machine-readable, and built from the numbers the sweeps enforce. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RETENTION, SUB_PROCESSORS, TERMS_VERSION } from "../../worker/lib/privacy-facts";
import { api, json } from "../helpers";

interface Privacy {
  termsVersion: string;
  subProcessors: { name: string; purpose: string; dataCategories: string[] }[];
  retention: { id: string; seconds: number | null }[];
  dataCategories: { category: string }[];
  rights: { article: string }[];
  limits: string[];
  onDeviceChecks: string[];
}

describe("privacy facts: happy", () => {
  it("is public and lists sub-processors, retention, categories and rights", async () => {
    const res = await api("/v1/privacy");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("public");
    const body = await json<Privacy>(res);
    expect(body.termsVersion).toBe(TERMS_VERSION);
    const names = body.subProcessors.map((p) => p.name).join(" ");
    for (const name of ["Cloudflare", "Clerk", "fal.ai", "Creem", "mail provider"]) expect(names).toContain(name);
    for (const p of body.subProcessors) {
      expect(p.purpose.length).toBeGreaterThan(10);
      expect(p.dataCategories.length).toBeGreaterThan(0);
    }
    expect(body.dataCategories.length).toBeGreaterThanOrEqual(5);
    expect(body.rights.map((r) => r.article).join(" ")).toMatch(/Art\. 15.*Art\. 17|Art\. 17.*Art\. 15/s);
    expect(body.limits.join(" ")).toContain("Time Travel");
    // The face check (issue 20): what it checks, that it runs on the device, and what is sent.
    const onDevice = body.onDeviceChecks.join(" ");
    for (const words of ["on your device", "exactly one clear face", "80 pixels and 12%", "WebAssembly", "no credit is used until both photos pass", "Only a square around the face"])
      expect(onDevice).toContain(words);
  });

  it("states the retention numbers the code uses", async () => {
    const body = await json<Privacy>(await api("/v1/privacy"));
    const rule = (id: string) => body.retention.find((r) => r.id === id)?.seconds;
    expect(rule("abandoned-uploads")).toBe(RETENTION.abandonedUploadMs / 1000);
    expect(rule("abandoned-uploads")).toBe(24 * 3600);
    expect(rule("exports")).toBe(RETENTION.exportTtlMs / 1000);
    expect(rule("exports")).toBe(3600);
    expect(rule("signed-links")).toBe(Math.min(Number(env.SIGNED_URL_TTL_SECONDS), 3600));
    expect(rule("results")).toBeNull();
    expect(rule("database-history")).toBe(30 * 86400);
    expect(body.subProcessors).toHaveLength(SUB_PROCESSORS.length);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await api("/v1/openapi.json"));
    expect(doc.paths["/v1/privacy"]?.["get"]).toBeDefined();
    expect(doc.paths["/v1/account"]?.["delete"]).toBeDefined();
    expect(doc.paths["/v1/account/exports"]?.["post"]).toBeDefined();
    expect(doc.paths["/v1/account/exports/{id}"]?.["get"]).toBeDefined();
    expect(doc.paths["/v1/generations/{id}"]?.["delete"]).toBeDefined();
    expect(doc.paths["/v1/me/consent"]?.["post"]).toBeDefined();
    expect(doc.paths["/v1/me/settings"]?.["patch"]).toBeDefined();
    expect(doc.paths["/v1/webhooks/clerk"]?.["post"]).toBeDefined();
  });
});
