/**
 * Role matrix (issue 16): every operator route, read from the live OpenAPI
 * document so a new one is covered the moment it is mounted, x {anonymous,
 * user, the admin's own API key, admin session}. Only an admin's browser
 * session gets through; a signed-in user gets the same 404 as an unknown
 * route; an API key never acts as an operator, even the admin's own.
 */
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../../worker/auth/types";
import { operatorLog } from "../../worker/db/schema";
import { insertApiKey } from "../access/fixtures";
import { API, services, signIn, tokenFor } from "../helpers";

const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const doc = (await (await SELF.fetch(`${API}/v1/openapi.json`)).json()) as { paths: Record<string, Partial<Record<(typeof METHODS)[number], unknown>>> };
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  path.startsWith("/v1/admin/") ? METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), path })) : [],
);

let carolKey = "";
beforeAll(async () => {
  const carol = await signIn("carol");
  await signIn("alice");
  carolKey = (await insertApiKey(carol, SCOPES)).secret;
});

type Caller = "anonymous" | "user" | "admin-api-key" | "admin";

async function call(op: { method: string; path: string }, caller: Caller) {
  const headers = new Headers({ "content-type": "application/json" });
  if (caller === "user") headers.set("authorization", `Bearer ${await tokenFor("alice")}`);
  if (caller === "admin") headers.set("authorization", `Bearer ${await tokenFor("carol")}`);
  if (caller === "admin-api-key") headers.set("authorization", `Bearer ${carolKey}`);
  const path = op.path.replace(/\{[^}]+\}/g, `x_${"0".repeat(32)}`);
  const res = await SELF.fetch(`${API}${path}`, { method: op.method, headers, ...(op.method === "GET" ? {} : { body: "{}" }) });
  return { status: res.status, body: (await res.json()) as { code?: string; detail?: string } };
}

describe("role matrix: coverage", () => {
  it("the OpenAPI document lists the operator routes", () => {
    const paths = operations.map((o) => `${o.method} ${o.path}`);
    expect(paths).toEqual(expect.arrayContaining(["GET /v1/admin/privacy-requests", "POST /v1/admin/privacy-requests/{id}/takedown", "GET /v1/admin/operator-log"]));
  });
});

describe.each(operations)("role matrix: $method $path", (op) => {
  it("anonymous: 401", async () => {
    const r = await call(op, "anonymous");
    expect(r.status).toBe(401);
    expect(r.body.code).toBe("unauthorized");
  });

  it("a signed-in user: 404, as for a route that does not exist", async () => {
    const r = await call(op, "user");
    expect(r.status).toBe(404);
    expect(r.body.code).toBe("not_found");
  });

  it("the admin's own API key: 403 insufficient_scope (API keys never act as operators)", async () => {
    const r = await call(op, "admin-api-key");
    expect(r.status).toBe(403);
  });

  it("an admin session gets through to the handler (200 for reads, validation for an empty body, the handler's own 404 for an unknown id)", async () => {
    const r = await call(op, "admin");
    if (op.method === "GET" && !op.path.includes("{")) expect(r.status).toBe(200);
    else if (r.status === 404) expect(r.body.detail).not.toBe("No such route.");
    else {
      expect(r.status).toBe(400);
      expect(r.body.code).toBe("validation_failed");
    }
  });
});

describe("role matrix: nothing recorded for refused callers", () => {
  it("the refused calls above left no operator log entry", async () => {
    const rows = await services().db.select().from(operatorLog).all();
    expect(rows).toEqual([]);
  });
});
