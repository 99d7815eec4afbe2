/**
 * The contract is the behaviour (issue 18): every operation of the published
 * /v1/openapi.json is called with valid and invalid requests (no credential,
 * a bad credential, an API key, bad path parameters, a malformed, a wrong and
 * an oversized body, wrong methods), and every answer must have a status the
 * document lists for that operation, a documented content type, a body that
 * validates against the documented schema, and, for a problem, its `code`
 * named in that status's description.
 */
import { Validator, type Schema } from "@cfworker/json-schema";
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp, documentConfig } from "../../worker/app";
import { SCOPES } from "../../worker/auth/types";
import { ERROR_CODES } from "../../worker/errors";
import { buildDocument, type OpenAPIDocument } from "../../worker/lib/openapi";
import { MAX_JSON_BODY_BYTES } from "../../worker/middleware/body-limit";
import { insertApiKey } from "../access/fixtures";
import { API, signIn, signInWithoutConsent, tokenFor } from "../helpers";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

// The document the test Worker serves (development: the dev routes are included).
const doc: OpenAPIDocument = buildDocument(createApp(), documentConfig("http://api.test"));
const components = (doc.components ?? {}) as Json;

interface Operation {
  method: string;
  path: string;
  op: Json;
}

const operations: Operation[] = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
  METHODS.flatMap((method) => {
    const op = (item as Json | undefined)?.[method];
    return isObj(op) ? [{ method, path, op }] : [];
  }),
);

function deref(v: unknown): unknown {
  if (isObj(v) && typeof v["$ref"] === "string") {
    const [, , kind = "", name = ""] = v["$ref"].split("/");
    return (components[kind] as Json | undefined)?.[name];
  }
  return v;
}

function parameters(op: Json, where: string): Json[] {
  const list = Array.isArray(op["parameters"]) ? op["parameters"] : [];
  return list.map(deref).filter(isObj).filter((p) => p["in"] === where);
}

function exampleOf(p: Json): string | undefined {
  const schema = deref(p["schema"]);
  const v = p["example"] ?? (isObj(schema) ? (schema["example"] ?? (Array.isArray(schema["enum"]) ? schema["enum"][0] : undefined)) : undefined);
  return v === undefined ? undefined : String(v);
}

function concretePath(o: Operation, bad = false): string {
  let path = o.path;
  for (const p of parameters(o.op, "path")) {
    path = path.replace(`{${String(p["name"])}}`, bad ? "not%20an%20id" : encodeURIComponent(exampleOf(p) ?? "x"));
  }
  const query = new URLSearchParams();
  for (const p of parameters(o.op, "query")) {
    const v = exampleOf(p);
    if (p["required"] === true || v !== undefined) query.set(String(p["name"]), bad ? "%%bad%%" : (v ?? "x"));
  }
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

function requestContent(op: Json): [string, Json] | undefined {
  const body = deref(op["requestBody"]);
  if (!isObj(body) || !isObj(body["content"])) return undefined;
  const first = Object.entries(body["content"])[0];
  return first && isObj(first[1]) ? [first[0], first[1]] : undefined;
}

interface Sent {
  label: string;
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
}

async function send(
  o: Operation,
  label: string,
  opts: { token?: string; badParams?: boolean; body?: BodyInit | null; contentType?: string; method?: string; onlyRequiredHeaders?: boolean } = {},
): Promise<Sent> {
  const headers = new Headers();
  if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
  for (const p of parameters(o.op, "header")) {
    if (opts.onlyRequiredHeaders && p["required"] !== true) continue;
    const name = String(p["name"]).toLowerCase();
    const v = name === "idempotency-key" ? crypto.randomUUID() : exampleOf(p);
    if (v !== undefined) headers.set(name, v);
  }
  let body: BodyInit | null | undefined = opts.body;
  const content = requestContent(o.op);
  if (body === undefined && content) {
    const [type, media] = content;
    headers.set("content-type", type);
    const example = media["example"] ?? (isObj(deref(media["schema"])) ? (deref(media["schema"]) as Json)["example"] : undefined);
    body = type.includes("json") ? JSON.stringify(example ?? {}) : new Uint8Array(64);
  } else if (opts.contentType) headers.set("content-type", opts.contentType);
  const method = (opts.method ?? o.method).toUpperCase();
  const res = await SELF.fetch(`${API}${concretePath(o, opts.badParams)}`, { method, headers, ...(body !== undefined && body !== null ? { body } : {}) });
  return { label, status: res.status, contentType: res.headers.get("content-type") ?? "", text: method === "HEAD" ? "" : await res.text(), headers: res.headers };
}

/** Asserts that `sent` is an answer the document promises for `o`. */
function expectDocumented(o: Operation, sent: Sent): void {
  const where = `${o.method.toUpperCase()} ${o.path} [${sent.label}] -> ${sent.status} ${sent.text.slice(0, 200)}`;
  const responses = (o.op["responses"] ?? {}) as Json;
  const documented = deref(responses[String(sent.status)]);
  expect.soft(isObj(documented), `undocumented status: ${where}`).toBe(true);
  if (!isObj(documented)) return;
  const content = isObj(documented["content"]) ? documented["content"] : undefined;
  if (!sent.text || sent.status === 204 || (sent.status >= 300 && sent.status < 400)) return;
  expect.soft(content, `a body where none is documented: ${where}`).toBeDefined();
  if (!content) return;
  const type = sent.contentType.split(";")[0]?.trim() ?? "";
  const media = content[type] ?? Object.entries(content).find(([k]) => k.endsWith("/*") && type.startsWith(k.slice(0, -1)))?.[1];
  expect.soft(isObj(media), `undocumented content type ${type}: ${where}`).toBe(true);
  if (!isObj(media) || !type.includes("json") || media["schema"] === undefined) return;
  const data: unknown = JSON.parse(sent.text);
  const validator = new Validator({ ...(media["schema"] as Json), components } as Schema, "2020-12", false);
  const result = validator.validate(data);
  expect.soft(result.errors.map((e) => `${e.instanceLocation}: ${e.error}`), `body does not match the schema: ${where}`).toEqual([]);
  if (type === "application/problem+json" && isObj(data)) {
    const code = String(data["code"]);
    expect.soft(ERROR_CODES[code as keyof typeof ERROR_CODES]?.status, where).toBe(sent.status);
    expect.soft(String(documented["description"]), `problem code \`${code}\` not named for ${sent.status}: ${where}`).toContain(`\`${code}\``);
  }
}

let session = "";
let weakKey = "";
let staff = "";
let noConsent = "";
let strongKey = "";

beforeAll(async () => {
  await signIn("contract");
  session = await tokenFor("contract");
  staff = await tokenFor("carol");
  const me = (await (await SELF.fetch(`${API}/v1/me`, { headers: { authorization: `Bearer ${session}` } })).json()) as { id: string };
  // A valid key with the narrowest scope: session-only and scoped routes refuse it.
  weakKey = (await insertApiKey(me.id, ["account:read"])).secret;
  strongKey = (await insertApiKey(me.id, SCOPES)).secret;
  await signInWithoutConsent("contract-no-consent");
  noConsent = await tokenFor("contract-no-consent");
});

describe("contract: the served document is the one checked here", () => {
  it("GET /v1/openapi.json is this document", async () => {
    const served = (await (await SELF.fetch(`${API}/v1/openapi.json`)).json()) as Json;
    expect(served["paths"]).toEqual(JSON.parse(JSON.stringify(doc.paths)));
  });

  it("every header example is ASCII (RFC 9110 §5.5)", () => {
    for (const o of operations) {
      for (const p of parameters(o.op, "header")) {
        const v = exampleOf(p);
        if (v !== undefined) expect(/^[\x20-\x7e]*$/.test(v), `${o.method} ${o.path} ${String(p["name"])}: ${v}`).toBe(true);
      }
    }
  });
});

describe("contract: every operation answers only what it documents", () => {
  for (const o of operations) {
    const secured = !Array.isArray(o.op["security"]) || o.op["security"].length > 0;
    const content = requestContent(o.op);
    it(`${o.method.toUpperCase()} ${o.path}`, async () => {
      // Destructive operations run under a user of their own, signed in with consent.
      const name = `contract-${String(o.op["operationId"])}`.toLowerCase().slice(0, 60);
      await signIn(name);
      const own = await tokenFor(name);
      const sent: Sent[] = [];
      if (secured) {
        sent.push(await send(o, "no credential"));
        sent.push(await send(o, "bad credential", { token: "bp_not_a_real_key_0000000000000000" }));
        sent.push(await send(o, "API key with account:read only", { token: weakKey }));
        sent.push(await send(o, "API key with every scope", { token: strongKey }));
        sent.push(await send(o, "session without consent", { token: noConsent }));
      }
      if (parameters(o.op, "path").length || parameters(o.op, "query").length) sent.push(await send(o, "bad parameters", { token: own, badParams: true }));
      if (content?.[0].includes("json")) {
        sent.push(await send(o, "malformed JSON", { token: own, body: "{", contentType: "application/json" }));
        sent.push(await send(o, "wrong JSON", { token: own, body: JSON.stringify({ unexpected: true }), contentType: "application/json" }));
        sent.push(await send(o, "oversized JSON", { token: own, body: JSON.stringify({ pad: "x".repeat(MAX_JSON_BODY_BYTES) }), contentType: "application/json" }));
      }
      if (parameters(o.op, "header").some((p) => p["required"] !== true)) {
        const bare = await send(o, "optional headers left out", { token: own, onlyRequiredHeaders: true });
        sent.push(bare);
        // A header the document calls optional is never demanded (428 Precondition Required).
        expect(bare.status, `${o.method} ${o.path}: a header marked optional is required`).not.toBe(428);
      }
      sent.push(await send(o, "valid", { token: own }));
      for (const s of sent) expectDocumented(o, s);
      if (secured) {
        expect(sent[0]?.status).toBe(401);
        expect(sent[1]?.status).toBe(401);
      }
      // Webhooks keep their own, larger caps (worker/lib/body.ts readWebhookBody).
      const oversized = sent.find((s) => s.label === "oversized JSON");
      if (oversized && !o.path.startsWith("/v1/webhooks/")) expect(oversized.status).toBe(413);
    });
  }
});

describe("contract: wrong methods", () => {
  const paths = Object.entries(doc.paths ?? {});
  for (const [path, item] of paths) {
    it(`${path}: an undocumented method gets 405 with Allow, and TRACE is refused`, async () => {
      const defined = METHODS.filter((m) => isObj((item as Json)[m])).map((m) => m.toUpperCase());
      const expected = new Set(defined);
      if (expected.has("GET")) expected.add("HEAD");
      expected.add("OPTIONS");
      const wrong = ["PUT", "PATCH", "DELETE", "POST"].find((m) => !expected.has(m));
      const probe: Operation = { method: defined[0]?.toLowerCase() ?? "get", path, op: (item as Json)[defined[0]?.toLowerCase() ?? "get"] as Json };
      for (const method of [wrong, "TRACE"]) {
        if (!method) continue;
        // Support and operator routes are hidden (404) from anyone but staff, so staff asks.
        const res = await send(probe, method, { token: path.startsWith("/v1/support/") || path.startsWith("/v1/admin/") ? staff : session, method, body: null });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.contentType).toContain("application/problem+json");
        expect(JSON.parse(res.text)).toMatchObject({ code: "method_not_allowed", status: 405 });
        const allow = new Set((res.headers.get("allow") ?? "").split(",").map((m) => m.trim()));
        expect(allow).toEqual(expected);
      }
    });
  }

  it("TRACE on a path that does not exist is refused too", async () => {
    const res = await SELF.fetch(`${API}/v1/no-such-thing`, { method: "TRACE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("an unknown path is still 404", async () => {
    const res = await SELF.fetch(`${API}/v1/no-such-thing`, { method: "PUT" });
    expect(res.status).toBe(404);
  });
});
