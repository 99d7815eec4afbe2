/**
 * The route files' rules (docs/architecture.md "Routes", docs/decisions/0027):
 * one file per resource, every operation naming a stable operationId of its
 * own and declaring its security in its createRoute. Read from the document createApp builds and
 * from the route files' source, so a route registered some other way is
 * noticed too.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApp, documentConfig } from "../../worker/app";
import { buildDocument } from "../../worker/lib/openapi";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const ROUTES = join(ROOT, "worker", "routes");
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

interface Declared {
  file: string;
  method: string;
  path: string;
  block: string;
}

/** Every `createRoute({...})` in worker/routes, with its method and path (a `${...}` in a template path reads as `{x}`). */
function declaredRoutes(): Declared[] {
  const out: Declared[] = [];
  for (const file of readdirSync(ROUTES).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(join(ROUTES, file), "utf8");
    for (let at = source.indexOf("createRoute({"); at >= 0; at = source.indexOf("createRoute({", at + 1)) {
      let depth = 0;
      let end = at + "createRoute(".length;
      for (; end < source.length; end++) {
        if (source[end] === "{") depth++;
        else if (source[end] === "}" && --depth === 0) break;
      }
      const block = source.slice(at, end + 1);
      const method = /\n\s*method: "(\w+)"/.exec(block)?.[1] ?? "?";
      const path = (/\n\s*path: ["`]([^"`]+)["`]/.exec(block)?.[1] ?? "?").replace(/\$\{[^}]+\}/g, "{x}");
      out.push({ file, method, path, block });
    }
  }
  return out;
}

const doc = buildDocument(createApp(), documentConfig("https://api.babypic.app"), { developmentRoutes: true });
const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
  METHODS.flatMap((method) => {
    const op = item?.[method];
    return op ? [{ method, path, op }] : [];
  }),
);

describe("route files: operationIds", () => {
  it("every operation in the document has an operationId, and no two share one", () => {
    expect(operations.length).toBeGreaterThan(50);
    expect(operations.filter(({ op }) => !op.operationId).map(({ method, path }) => `${method} ${path}`)).toEqual([]);
    const seen = new Map<string, string>();
    const repeated: string[] = [];
    for (const { method, path, op } of operations) {
      const id = String(op.operationId);
      const first = seen.get(id);
      if (first) repeated.push(`${id}: ${first} and ${method} ${path}`);
      seen.set(id, `${method} ${path}`);
    }
    expect(repeated).toEqual([]);
  });

  it("every createRoute names its operationId and declares its security (authenticated(...) or anonymous(...)), hidden routes included", () => {
    const routes = declaredRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(operations.length);
    expect(routes.filter((r) => !/\n\s*operationId: /.test(r.block)).map((r) => `${r.file}: ${r.method} ${r.path}`)).toEqual([]);
    expect(routes.filter((r) => !/\.\.\.(authenticated|anonymous)\(/.test(r.block)).map((r) => `${r.file}: ${r.method} ${r.path}`)).toEqual([]);
  });

  it("every operation of the document is a createRoute of worker/routes", () => {
    const declared = new Set(declaredRoutes().map((r) => `${r.method} ${r.path}`));
    const missing = operations.map(({ method, path }) => `${method} ${path.replace(/^\/v1/, "")}`).filter((key) => !declared.has(key) && !declared.has(key.replace(/\/[a-z]+$/, "/{x}")));
    expect(missing).toEqual([]);
  });
});

/**
 * The resource a path belongs to: its first segment (`/generations/{id}/cancel`
 * -> `generations`), or its first two under the `admin` and `webhooks`
 * namespaces (`/admin/incidents/{id}/publish` -> `admin/incidents`). Its file
 * is worker/routes/<resource, "/" as "-">.ts.
 */
function resourceOf(path: string): string {
  const [first = "", second = ""] = path.split("/").filter(Boolean);
  return first === "admin" || first === "webhooks" ? `${first}/${second}` : first;
}

describe("route files: one file per resource", () => {
  const routes = declaredRoutes();

  it("all of a resource's operations are in one file, the one named after it", () => {
    const misplaced = routes.filter((r) => r.file !== `${resourceOf(r.path).replace("/", "-")}.ts`);
    expect(misplaced.map((r) => `${r.method} ${r.path} is in ${r.file}, not ${resourceOf(r.path).replace("/", "-")}.ts`)).toEqual([]);
    const files = new Map<string, Set<string>>();
    for (const r of routes) files.set(resourceOf(r.path), (files.get(resourceOf(r.path)) ?? new Set()).add(r.file));
    expect([...files].filter(([, f]) => f.size > 1).map(([resource, f]) => `${resource}: ${[...f].join(", ")}`)).toEqual([]);
  });

  it("every route file declares at least one operation of its own resource", () => {
    const files = readdirSync(ROUTES).filter((f) => f.endsWith(".ts"));
    const empty = files.filter((f) => !routes.some((r) => r.file === f && `${resourceOf(r.path).replace("/", "-")}.ts` === f));
    // well-known.ts serves /.well-known/* outside /v1 with plain Hono routes (not in the OpenAPI document).
    expect(empty.filter((f) => f !== "well-known.ts")).toEqual([]);
  });
});
