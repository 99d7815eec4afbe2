/**
 * Authorization matrix (issue 5 §7): every operation in the live OpenAPI
 * document x {no credentials, expired token, user B's session, user B's API
 * key} against user A's resources.
 *
 * For each cell the same request is sent twice: once with A's real ids, once
 * with ids that never existed. The two answers must be identical (status,
 * code, body apart from the request id), no answer may carry A's data, and an
 * operation on A's ids never succeeds. Operations are read from
 * /v1/openapi.json at collection time, so a new route is covered the moment
 * it is mounted; a path parameter this file cannot map to one of A's
 * resources fails the test instead of being skipped.
 *
 * The document's `security` is checked against what each route really
 * requires (docs/decisions/0027): a credential is refused 401 where security
 * is declared and never asked for where it is `[]`; a `session` requirement
 * refuses API keys, `step-up` refuses a sign-in checked long ago, `operator`
 * answers other sessions 404; a `bearer` requirement names the one scope an
 * API key needs, refused without it and accepted with only it.
 */
import { SELF } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../../worker/auth/types";
import { apiKeys, exportsTable, generations, objects, webhookEndpoints } from "../../worker/db/schema";
import { loadChain, verifyChain } from "../../worker/services/audit";
import { countSecurityEvents } from "../../worker/services/security-log";
import { signLink } from "../../worker/services/signed-links";
import { putObject } from "../../worker/services/storage";
import { insertApiKey, insertGeneration } from "../access/fixtures";
import { API, services, signIn, tokenFor } from "../helpers";

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  headerParams: string[];
  security: Record<string, string[]>[] | undefined;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head"] as const;
const docRes = await SELF.fetch(`${API}/v1/openapi.json`);
const doc = (await docRes.json()) as {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], { parameters?: { name: string; in: string }[]; security?: Record<string, string[]>[] }>>>;
};

const operations: Operation[] = Object.entries(doc.paths)
  .flatMap(([path, item]) =>
    METHODS.flatMap((m) => {
      const op = item[m];
      if (!op) return [];
      const params = op.parameters ?? [];
      return [
        {
          method: m.toUpperCase(),
          path,
          pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
          headerParams: params.filter((p) => p.in === "header").map((p) => p.name.toLowerCase()),
          security: op.security,
        },
      ];
    }),
  )
  // Destructive calls on the caller's own account run last so they cannot change what earlier cells see.
  .sort((a, b) => Number(a.method === "DELETE" && !a.path.includes("{")) - Number(b.method === "DELETE" && !b.path.includes("{")));

/** A's resources, by kind. */
interface Ids {
  user: string;
  photo: string;
  generation: string;
  output: string;
  apiKey: string;
  export: string;
  webhookEndpoint: string;
}
type Kind = keyof Ids;

/** Path parameters by name; a generic `{id}` is resolved by the path segment before it. */
const PARAM_BY_NAME: Record<string, Kind> = {
  userId: "user",
  objectId: "output",
  photoId: "photo",
  generationId: "generation",
  exportId: "export",
  keyId: "apiKey",
};
const ID_BY_SEGMENT: Record<string, Kind> = {
  photos: "photo",
  generations: "generation",
  files: "output",
  "api-keys": "apiKey",
  exports: "export",
  users: "user",
  "webhook-endpoints": "webhookEndpoint",
  // Operator routes (issue 16): not A's resources; everyone here but an admin session gets 404 either way.
  "privacy-requests": "user",
  incidents: "user",
  "legal-demands": "user",
  // Support sessions (decision 0019): not A's resources either; test/privacy-team/support-sessions.test.ts covers them.
  "support-sessions": "user",
  "support-image-requests": "user",
  images: "user",
};

function kindFor(path: string, param: string): Kind | undefined {
  const named = PARAM_BY_NAME[param];
  if (named) return named;
  const segments = path.split("/");
  const at = segments.indexOf(`{${param}}`);
  const before = at > 0 ? segments[at - 1] : undefined;
  return before ? ID_BY_SEGMENT[before] : undefined;
}

function fill(op: Operation, ids: Ids): string {
  let path = op.path;
  for (const p of op.pathParams) {
    const kind = kindFor(op.path, p);
    if (!kind) throw new Error(`authz matrix: no resource for path parameter {${p}} in ${op.method} ${op.path}; add it to PARAM_BY_NAME or ID_BY_SEGMENT`);
    path = path.replace(`{${p}}`, encodeURIComponent(ids[kind]));
  }
  return path;
}

/** Same prefix and length as the real id, but never created. */
function ghostOf(id: string): string {
  const prefix = id.slice(0, id.indexOf("_") + 1);
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  return prefix + hex.slice(0, id.length - prefix.length).padEnd(id.length - prefix.length, "0");
}

let A: Ids;
let ghost: Ids;
let aliceEmail = "";

beforeAll(async () => {
  const s = services();
  // A user outside the local fixtures (whose emails /v1/dev/users lists publicly), with a private email.
  aliceEmail = "amelia.private@example.test";
  const me = await SELF.fetch(`${API}/v1/me`, { headers: { authorization: `Bearer ${await tokenFor("amelia", { claims: { email: aliceEmail } })}` } });
  const user = ((await me.json()) as { id: string }).id;
  expect(user).toMatch(/^usr_/);
  const photo = (await putObject(s, { userId: user, kind: "photo", contentType: "image/jpeg", bytes: crypto.getRandomValues(new Uint8Array(512)) })).id;
  const generation = await insertGeneration(user, "completed");
  const output = (
    await putObject(s, { userId: user, kind: "output", contentType: "image/png", bytes: crypto.getRandomValues(new Uint8Array(512)), generationId: generation })
  ).id;
  const exportObj = await putObject(s, { userId: user, kind: "export", contentType: "application/zip", bytes: crypto.getRandomValues(new Uint8Array(256)) });
  const exportId = `exp_${Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("")}`;
  await s.db.insert(exportsTable).values({
    id: exportId,
    userId: user,
    status: "ready",
    progress: 100,
    objectId: exportObj.id,
    createdAt: Date.now(),
    completedAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
  });
  const apiKey = (await insertApiKey(user, SCOPES)).id;
  // An endpoint row as registration stores it (the SSRF guard and DNS are test/webhooks/'s subject; the secret is only ever read to sign).
  const webhookEndpoint = `whe_${Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("")}`;
  await s.db.insert(webhookEndpoints).values({ id: webhookEndpoint, userId: user, url: "https://hooks.example.test/babypic", events: "generation.completed", secret: "sealed-test-secret", createdAt: Date.now() });
  A = { user, photo, generation, output, apiKey, export: exportId, webhookEndpoint };
  ghost = {
    user: ghostOf(user),
    photo: ghostOf(photo),
    generation: ghostOf(generation),
    output: ghostOf(output),
    apiKey: ghostOf(apiKey),
    export: ghostOf(exportId),
    webhookEndpoint: ghostOf(webhookEndpoint),
  };
});

type Caller = "none" | "expired" | "userB" | "userB-api-key";
const CALLERS: Caller[] = ["none", "expired", "userB", "userB-api-key"];

let seq = 0;

/** A fresh user B per operation, so one cell's rate-limit budget or deletion cannot leak into another. */
async function credentialFor(caller: Caller, b: string): Promise<string | null> {
  if (caller === "none") return null;
  if (caller === "expired") return tokenFor(b, { nowSeconds: Math.floor(Date.now() / 1000) - 7200, ttlSeconds: 60 });
  const bId = await signIn(b);
  if (caller === "userB") return tokenFor(b);
  return (await insertApiKey(bId, SCOPES)).secret;
}

function headersFor(op: Operation, credential: string | null, ip: string): Headers {
  const h = new Headers({ "cf-connecting-ip": ip });
  if (credential) h.set("authorization", `Bearer ${credential}`);
  if (["POST", "PUT", "PATCH"].includes(op.method)) h.set("content-type", "application/json");
  for (const name of op.headerParams) {
    if (name === "x-support-reason") h.set(name, "Authorization matrix: checking access to user data");
    else if (name === "idempotency-key") h.set(name, crypto.randomUUID());
    else if (!h.has(name)) h.set(name, "x");
  }
  return h;
}

async function send(op: Operation, path: string, headers: Headers): Promise<{ status: number; text: string }> {
  const init: RequestInit = { method: op.method, headers };
  if (["POST", "PUT", "PATCH"].includes(op.method)) init.body = "{}";
  const res = await SELF.fetch(`${API}${path}`, init);
  const type = res.headers.get("content-type") ?? "";
  if (/json|text|html/.test(type)) return { status: res.status, text: await res.text() };
  return { status: res.status, text: `<${type} ${(await res.arrayBuffer()).byteLength} bytes>` };
}

/** The body with per-request noise removed and the ids in the URL made neutral. */
function normalize(text: string, ids: Ids): unknown {
  let t = text;
  for (const id of Object.values(ids)) t = t.replaceAll(id, "<id>");
  try {
    const body = JSON.parse(t) as Record<string, unknown>;
    delete body["requestId"];
    return body;
  } catch {
    return t;
  }
}

/** Anything of A's that must never appear in an answer to someone else (the echoed URL aside). */
function leaksOfA(text: string, op: Operation): string[] {
  let t = text;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    delete body["instance"];
    t = JSON.stringify(body);
  } catch {
    // not JSON: check as is
  }
  const secrets = [A.user, A.photo, A.generation, A.output, A.apiKey, A.export, aliceEmail];
  void op;
  return secrets.filter((v) => t.includes(v));
}

describe("authorization matrix: coverage", () => {
  it("the OpenAPI document lists the routes this matrix must cover", () => {
    expect(operations.length).toBeGreaterThan(10);
    const paths = new Set(operations.map((o) => o.path));
    for (const p of ["/v1/files/{id}", "/v1/account/audit", "/v1/support/users/{userId}"]) expect(paths.has(p)).toBe(true);
  });

  it("every path parameter maps to one of A's resources", () => {
    const unmapped = operations.flatMap((op) => op.pathParams.filter((p) => !kindFor(op.path, p)).map((p) => `${op.method} ${op.path} {${p}}`));
    expect(unmapped).toEqual([]);
  });
});

describe.each(operations)("authorization matrix: $method $path", (op) => {
  it.each(CALLERS)("%s: never A's data, and A's ids answer exactly like ids that never existed", async (caller) => {
    seq++;
    const b = `mx${seq}`;
    const credential = await credentialFor(caller, b);
    const ip = `10.${(seq >> 8) & 255}.${seq & 255}.1`;
    const real = await send(op, fill(op, A), headersFor(op, credential, ip));
    const none = await send(op, fill(op, ghost), headersFor(op, credential, ip));

    expect(real.status, `${caller} ${op.method} ${op.path}: real ids ${real.status} vs unknown ids ${none.status}\n${real.text}\n${none.text}`).toBe(none.status);
    // With ids in the path the two answers must match byte for byte (bar the request id); without, both
    // requests are the same and may differ only in time-dependent content (clock, nonces, the caller's own log).
    if (op.pathParams.length > 0) expect(normalize(real.text, A)).toEqual(normalize(none.text, ghost));
    expect(leaksOfA(real.text, op), `${caller} ${op.method} ${op.path} leaked A's data: ${real.text.slice(0, 500)}`).toEqual([]);
    if (op.pathParams.length > 0) expect(real.status, `${caller} ${op.method} ${op.path} succeeded on A's resource`).toBeGreaterThanOrEqual(300);
    expect(real.status, `${caller} ${op.method} ${op.path}: ${real.text.slice(0, 300)}`).toBeLessThan(500);
  });
});

/** The one requirement an operation declares, as worker/middleware/auth.ts `securityFor` writes it. */
function declared(op: Operation): { scheme: "none" } | { scheme: "bearer"; scope: string } | { scheme: "session"; roles: string[] } {
  const security = op.security ?? [];
  if (security.length === 0) return { scheme: "none" };
  expect(security, `${op.method} ${op.path}: one security requirement`).toHaveLength(1);
  const [scheme, list] = Object.entries(security[0] ?? {})[0] ?? ["", []];
  if (scheme === "bearer") {
    expect(list, `${op.method} ${op.path}: a bearer requirement names the one scope an API key needs`).toHaveLength(1);
    expect(SCOPES).toContain(list[0]);
    return { scheme, scope: list[0] ?? "" };
  }
  expect(scheme, `${op.method} ${op.path}: unknown security scheme`).toBe("session");
  expect(list.every((role) => role === "step-up" || role === "operator"), `${op.method} ${op.path}: roles ${list.join(",")}`).toBe(true);
  return { scheme: "session", roles: list };
}

function codeOf(res: { status: number; text: string }): string | undefined {
  try {
    return (JSON.parse(res.text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

describe("authorization matrix: the declared security is what the route requires", () => {
  it("every operation declares its security explicitly", () => {
    expect(operations.filter((op) => !Array.isArray(op.security)).map((op) => `${op.method} ${op.path}`)).toEqual([]);
  });

  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))("%s", async (name, op) => {
    seq++;
    const b = `sx${seq}`;
    const ip = (n: number) => `10.${100 + n}.${seq & 255}.${(seq >> 8) + 1}`;
    const need = declared(op);

    const anonymous = await send(op, fill(op, ghost), headersFor(op, null, ip(0)));
    if (need.scheme === "none") {
      expect(codeOf(anonymous), `${name} declares no security but refused an anonymous caller: ${anonymous.text.slice(0, 200)}`).not.toBe("unauthorized");
      return;
    }
    expect([anonymous.status, codeOf(anonymous)], `${name} declares security but let an anonymous caller through: ${anonymous.text.slice(0, 200)}`).toEqual([401, "unauthorized"]);

    const bId = await signIn(b);
    if (need.scheme === "bearer") {
      const without = (await insertApiKey(bId, SCOPES.filter((s) => s !== need.scope))).secret;
      const refused = await send(op, fill(op, ghost), headersFor(op, without, ip(1)));
      expect([refused.status, codeOf(refused)], `${name}: a key without ${need.scope}`).toEqual([403, "insufficient_scope"]);
      const only = (await insertApiKey(bId, SCOPES.filter((s) => s === need.scope))).secret;
      const accepted = await send(op, fill(op, ghost), headersFor(op, only, ip(2)));
      expect(["unauthorized", "insufficient_scope"], `${name}: a key holding only ${need.scope}: ${accepted.text.slice(0, 200)}`).not.toContain(codeOf(accepted));
      return;
    }
    const key = (await insertApiKey(bId, SCOPES)).secret;
    const byKey = await send(op, fill(op, ghost), headersFor(op, key, ip(1)));
    expect([byKey.status, codeOf(byKey)], `${name} is session-only: an API key with every scope`).toEqual([403, "insufficient_scope"]);
    if (need.roles.includes("operator")) {
      const user = await send(op, fill(op, ghost), headersFor(op, await tokenFor(b), ip(2)));
      expect([user.status, codeOf(user)], `${name} is for operators: another session`).toEqual([404, "not_found"]);
      return;
    }
    if (need.roles.includes("step-up")) {
      const stale = await tokenFor(b, { verifiedAtSeconds: Math.floor(Date.now() / 1000) - 3600 });
      const refused = await send(op, fill(op, ghost), headersFor(op, stale, ip(2)));
      expect([refused.status, codeOf(refused)], `${name} needs a recent sign-in check: one an hour old`).toEqual([403, "reverification_required"]);
    }
    // Without `step-up` declared, a sign-in checked an hour ago must do (the session itself is still young enough).
    const verifiedAt = need.roles.includes("step-up") ? undefined : Math.floor(Date.now() / 1000) - 3600;
    const session = await send(op, fill(op, ghost), headersFor(op, await tokenFor(b, { verifiedAtSeconds: verifiedAt }), ip(3)));
    expect(["unauthorized", "insufficient_scope", "reverification_required"], `${name}: B's session: ${session.text.slice(0, 200)}`).not.toContain(codeOf(session));
  });
});

describe("authorization matrix: the ids are real (owner sanity)", () => {
  // A published post-mortem belongs to no user: test/privacy-team/incidents.test.ts covers its reads.
  // Operator routes' ids are sessions and requests, not A's: test/privacy-team/support-sessions.test.ts covers their reads.
  const reads = operations.filter((op) => op.method === "GET" && op.pathParams.length > 0 && op.path !== "/v1/incidents/{slug}" && !op.path.startsWith("/v1/admin/"));

  it.each(reads.map((op) => [`${op.method} ${op.path}`, op] as const))("%s succeeds for its rightful caller", async (_name, op) => {
    seq++;
    const ip = `10.200.${seq & 255}.1`;
    let path = fill(op, A);
    let credential: string | null = await tokenFor("amelia");
    if (op.path === "/v1/files/{id}") {
      // A capability route: the owner's proof is a signed link, not a session.
      const s = services();
      const exp = Math.floor(Date.now() / 1000) + 300;
      const { kid, sig } = await signLink(s.config.URL_SIGNING_KEYS, { objectId: A.output, ownerId: A.user, exp, disposition: "inline" });
      path += `?${new URLSearchParams({ exp: String(exp), disp: "inline", kid, sig })}`;
      credential = null;
    } else if (op.path.startsWith("/v1/support/")) {
      // Staff-only: carol is the admin in development and tests, and reads inside a support session she opened (decision 0019).
      credential = await tokenFor("carol");
      const opened = await SELF.fetch(`${API}/v1/admin/support-sessions`, {
        method: "POST",
        headers: { authorization: `Bearer ${credential}`, "content-type": "application/json" },
        body: JSON.stringify({ userId: A.user, reason: "Owner sanity check of the matrix", ticket: "T-1" }),
      });
      expect(opened.status).toBe(201);
    }
    const res = await send(op, path, headersFor(op, credential, ip));
    expect(res.status, `${op.method} ${op.path}: ${res.text.slice(0, 300)}`).toBeLessThan(300);
  });
});

describe("authorization matrix: afterwards", () => {
  it("A's resources are untouched and A's audit chain holds no one else's actions", async () => {
    const db = services().db;
    expect(await db.select().from(objects).where(and(eq(objects.userId, A.user), eq(objects.id, A.photo))).get()).toBeDefined();
    expect(await db.select().from(objects).where(eq(objects.id, A.output)).get()).toBeDefined();
    expect((await db.select().from(generations).where(eq(generations.id, A.generation)).get())?.status).toBe("completed");
    expect((await db.select().from(apiKeys).where(eq(apiKeys.id, A.apiKey)).get())?.revokedAt).toBeNull();
    expect(await db.select().from(exportsTable).where(eq(exportsTable.id, A.export)).get()).toBeDefined();
    const chain = await loadChain(db, A.user);
    expect(await verifyChain(chain)).toMatchObject({ ok: true });
    const foreign = chain.filter((r) => r.actorType === "api_key" ? r.actorId !== A.apiKey : r.actorType === "user" ? r.actorId !== A.user && r.actorId !== null : r.actorType !== "support");
    expect(foreign).toEqual([]);
  });

  it("probes on A's ids by others are visible in the security log", async () => {
    const counts = await countSecurityEvents(services().db, { since: 0, kind: "not_found_probe" });
    expect(counts.reduce((n, c) => n + c.count, 0)).toBeGreaterThan(0);
  });
});
