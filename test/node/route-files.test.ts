/**
 * The route files' rules (docs/architecture.md "Routes", docs/decisions/0027):
 * every operation names a stable operationId of its own, and declares its
 * security in its createRoute. Read from the document createApp builds and
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
