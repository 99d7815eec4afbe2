/**
 * The published OpenAPI 3.1 document (issue 7): built in Node from the same
 * createApp the Worker serves, linted by the real Redocly CLI, and checked for
 * what integrators need from every operation: a summary, an example for each
 * JSON answer, documented errors, and the right security.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, documentConfig } from "../../worker/app";
import { buildDocument, isPublicPath, type OpenAPIDocument } from "../../worker/lib/openapi";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const REDOCLY = join(ROOT, "node_modules", "@redocly", "cli", "bin", "cli.js");
const METHODS = ["get", "put", "post", "delete", "patch"] as const;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

let dir = "";
let file = "";
let doc: OpenAPIDocument;

beforeAll(() => {
  doc = buildDocument(createApp(), documentConfig("https://api.babypic.app"));
  dir = mkdtempSync(join(tmpdir(), "babypic-openapi-"));
  file = join(dir, "openapi.json");
  writeFileSync(file, JSON.stringify(doc, null, 2));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function operations(): { method: string; path: string; op: Json }[] {
  const out: { method: string; path: string; op: Json }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Json | undefined)?.[method];
      if (isObj(op)) out.push({ method, path, op });
    }
  }
  return out;
}

function resolve(schema: unknown): unknown {
  if (isObj(schema) && typeof schema["$ref"] === "string") {
    const name = schema["$ref"].split("/").pop() ?? "";
    return (doc.components?.schemas as Json | undefined)?.[name];
  }
  return schema;
}

/** An example for the media type: its own, the schema's, or one on every property of an object schema. */
function hasExample(media: Json): boolean {
  if (media["example"] !== undefined || media["examples"] !== undefined) return true;
  const schema = resolve(media["schema"]);
  if (!isObj(schema)) return false;
  if (schema["example"] !== undefined || schema["examples"] !== undefined) return true;
  if (schema["type"] === "string") return true;
  return false;
}

describe("OpenAPI document: redocly lint", () => {
  it("passes `redocly lint` (recommended rules, warnings as errors) with no problems", () => {
    const run = spawnSync(process.execPath, [REDOCLY, "lint", file, "--config", join(ROOT, "test", "node", "redocly.yaml"), "--format", "json"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_UPDATE_NOTIFIER: "1" },
      timeout: 60_000,
    });
    const jsonStart = run.stdout.indexOf("{");
    expect(jsonStart, `redocly printed no JSON: ${run.stderr}`).toBeGreaterThanOrEqual(0);
    const report = JSON.parse(run.stdout.slice(jsonStart)) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? "?"}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(run.status).toBe(0);
  });
});

describe("OpenAPI document: what integrators need", () => {
  it("is OpenAPI 3.1 with the bearer scheme and covers the main resources", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components?.securitySchemes?.["bearer"]).toMatchObject({ type: "http", scheme: "bearer" });
    const paths = Object.keys(doc.paths ?? {});
    for (const p of ["/v1/me", "/v1/api-keys", "/v1/api-keys/{id}", "/v1/billing/ledger", "/v1/billing/checkout", "/v1/billing/packs", "/v1/webhooks/creem", "/v1/docs"]) {
      expect(paths).toContain(p);
    }
  });

  it("every operation has a summary, an operationId and at least one documented error response", () => {
    const missing = operations()
      .filter(({ op }) => {
        const codes = Object.keys(isObj(op["responses"]) ? op["responses"] : {});
        return !op["summary"] || !op["operationId"] || !codes.some((c) => /^[45]\d\d$/.test(c));
      })
      .map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });

  it("every error response is an RFC 9457 problem", () => {
    const wrong: string[] = [];
    for (const { method, path, op } of operations()) {
      for (const [code, res] of Object.entries(isObj(op["responses"]) ? op["responses"] : {})) {
        if (!/^[45]/.test(code) || !isObj(res)) continue;
        const content = isObj(res["content"]) ? res["content"] : {};
        if (!("application/problem+json" in content)) wrong.push(`${method} ${path} ${code}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("every JSON success response and JSON request body has an example", () => {
    const missing: string[] = [];
    for (const { method, path, op } of operations()) {
      const body = op["requestBody"];
      if (isObj(body) && isObj(body["content"])) {
        const media = body["content"]["application/json"];
        if (isObj(media) && !hasExample(media)) missing.push(`${method} ${path} request`);
      }
      for (const [code, res] of Object.entries(isObj(op["responses"]) ? op["responses"] : {})) {
        if (!/^2/.test(code) || !isObj(res) || !isObj(res["content"])) continue;
        const media = res["content"]["application/json"];
        if (isObj(media) && !hasExample(media)) missing.push(`${method} ${path} ${code}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("only the public routes (webhooks, public reads, signed file links) go without the bearer requirement", () => {
    const unauthenticated = operations()
      .filter(({ op }) => Array.isArray(op["security"]) && op["security"].length === 0)
      .map(({ method, path }) => `${method} ${path}`);
    const secured = operations().filter(({ op }) => Array.isArray(op["security"]) && op["security"].length > 0);
    expect(unauthenticated.every((entry) => isPublicPath(entry.split(" ")[1] ?? ""))).toBe(true);
    expect(secured.every(({ path }) => !isPublicPath(path))).toBe(true);
    expect(unauthenticated.length + secured.length).toBe(operations().length);
  });

  it("API key management is documented as session-only and billing with its scopes", () => {
    const byId = new Map(operations().map(({ op }) => [String(op["operationId"]), op]));
    for (const id of ["createApiKey", "listApiKeys", "revokeApiKey"]) {
      expect(String(byId.get(id)?.["summary"])).toContain("session only");
    }
    expect(String(byId.get("createCheckout")?.["description"])).toContain("billing:write");
  });
});
