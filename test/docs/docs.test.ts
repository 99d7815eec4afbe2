/**
 * GET /v1/docs (issue 7): the reference rendered on the server from the
 * OpenAPI document, with no scripts and nothing from another origin; its CSP
 * allows only the page's own nonce'd stylesheet.
 */
import { describe, expect, it } from "vitest";
import { renderDocsHtml } from "../../worker/routes/docs";
import { api, json } from "../helpers";

interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId: string; summary: string }>>;
}

describe("docs page: happy", () => {
  it("serves every operation of /v1/openapi.json as HTML", async () => {
    const doc = await json<Doc>(await api("/v1/openapi.json"));
    const res = await api("/v1/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain(`<title>${doc.info.title} reference</title>`);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(html, `${method} ${path}`).toContain(`id="op-${op.operationId.toLowerCase()}"`);
        expect(html).toContain(`<code>${path}</code>`);
        void method;
      }
    }
    expect(html).toContain('id="schema-problem"');
  });
});

describe("docs page: security", () => {
  it("loads no script and nothing from another origin; the CSP allows only its nonce'd style", async () => {
    const res = await api("/v1/docs");
    const csp = res.headers.get("content-security-policy") ?? "";
    const html = await res.text();
    const nonce = /style-src 'nonce-([A-Za-z0-9_-]{16,})'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("uses a fresh nonce per response", async () => {
    const a = (await api("/v1/docs")).headers.get("content-security-policy");
    const b = (await api("/v1/docs")).headers.get("content-security-policy");
    expect(a).not.toBe(b);
  });

  it("the rest of the API keeps its strict CSP", async () => {
    const res = await api("/v1/health");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).not.toContain("nonce");
  });

  it("escapes everything taken from the document", () => {
    const html = renderDocsHtml(
      {
        openapi: "3.1.0",
        info: { title: "<script>alert(1)</script>", version: "1" },
        paths: {
          "/v1/x": { get: { operationId: "x", summary: '"><img src=x onerror=alert(1)>', responses: { 200: { description: "</style><script>" } } } },
        },
      },
      "n0nce",
    );
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
  });
});
