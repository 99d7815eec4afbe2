/**
 * No existence oracle (issue 18): for every route that looks an id up among
 * the caller's own, another user's id and an id that never existed take the
 * same code path before the answer: the same D1 statements in the same order,
 * and the same 404 body. Whether the id belongs to someone else is looked up
 * only after the response (waitUntil), where it is logged as
 * `not_found_probe` (worker/services/security-log.ts notFoundFor).
 *
 * Work is compared by the statements the D1 binding is asked to prepare,
 * not by wall time.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { exportsTable, securityLog } from "../../worker/db/schema";
import type { Bindings } from "../../worker/env";
import { newId, type IdPrefix } from "../../worker/lib/ids";
import { insertApiKey, insertGeneration, insertObjectRow } from "../access/fixtures";
import { API, services, signIn, tokenFor } from "../helpers";

/** A D1 binding that records the SQL of every statement prepared through it. */
function recordingD1(db: D1Database, log: string[]): D1Database {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") {
        return (sql: string) => {
          log.push(sql);
          return target.prepare(sql);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface Traced {
  status: number;
  body: Record<string, unknown>;
  requestId: string;
  /** Statements prepared before the response was returned. */
  before: string[];
  /** Statements prepared afterwards, by waitUntil tasks. */
  after: string[];
}

async function traced(path: string, init: RequestInit): Promise<Traced> {
  const log: string[] = [];
  const bindings: Bindings = { ...env, DB: recordingD1(env.DB, log) };
  const ctx = createExecutionContext();
  const res = await createApp().request(`${API}${path}`, init, bindings, ctx);
  const before = [...log];
  const body = (await res.json()) as Record<string, unknown>;
  await waitOnExecutionContext(ctx);
  return { status: res.status, body, requestId: res.headers.get("x-request-id") ?? "", before, after: log.slice(before.length) };
}

async function probesFor(requestId: string) {
  return services().db.select().from(securityLog).where(eq(securityLog.requestId, requestId)).all();
}

let alice = "";
const ids: Record<string, string> = {};

beforeAll(async () => {
  alice = await signIn("alice");
  const bob = await signIn("bob");
  ids["photo"] = await insertObjectRow(bob, "photo");
  ids["generation"] = await insertGeneration(bob, "queued");
  ids["generationDone"] = await insertGeneration(bob, "completed");
  ids["output"] = await insertObjectRow(bob, "output", ids["generationDone"]);
  ids["apiKey"] = (await insertApiKey(bob, ["account:read"])).id;
  ids["export"] = newId("exp");
  await services()
    .db.insert(exportsTable)
    .values({ id: ids["export"], userId: bob, status: "ready", createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
  ids["alicePhoto"] = await insertObjectRow(alice, "photo");
});

type Case = { name: string; request: (id: string) => [string, RequestInit]; foreign: () => string; prefix: IdPrefix };

const cases: Case[] = [
  { name: "GET /v1/photos/{id}", prefix: "pho", foreign: () => ids["photo"] ?? "", request: (id) => [`/v1/photos/${id}`, {}] },
  { name: "DELETE /v1/photos/{id}", prefix: "pho", foreign: () => ids["photo"] ?? "", request: (id) => [`/v1/photos/${id}`, { method: "DELETE" }] },
  { name: "GET /v1/generations/{id}", prefix: "gen", foreign: () => ids["generation"] ?? "", request: (id) => [`/v1/generations/${id}`, {}] },
  { name: "POST /v1/generations/{id}/cancel", prefix: "gen", foreign: () => ids["generation"] ?? "", request: (id) => [`/v1/generations/${id}/cancel`, { method: "POST" }] },
  { name: "DELETE /v1/generations/{id}", prefix: "gen", foreign: () => ids["generation"] ?? "", request: (id) => [`/v1/generations/${id}`, { method: "DELETE" }] },
  {
    name: "POST /v1/generations/{id}/outputs/{objectId}/download-link",
    prefix: "img",
    foreign: () => ids["output"] ?? "",
    request: (id) => [`/v1/generations/${ids["generationDone"]}/outputs/${id}/download-link`, { method: "POST" }],
  },
  { name: "GET /v1/account/exports/{id}", prefix: "exp", foreign: () => ids["export"] ?? "", request: (id) => [`/v1/account/exports/${id}`, {}] },
  { name: "DELETE /v1/api-keys/{id}", prefix: "key", foreign: () => ids["apiKey"] ?? "", request: (id) => [`/v1/api-keys/${id}`, { method: "DELETE" }] },
  {
    name: "POST /v1/generations with another user's photo",
    prefix: "pho",
    foreign: () => ids["photo"] ?? "",
    request: (id) => [
      "/v1/generations",
      {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ motherPhotoId: id, fatherPhotoId: ids["alicePhoto"], gender: "girl", ageGroup: "newborn", resemblance: 0.5, images: 1 }),
      },
    ],
  },
];

describe("existence oracle (security)", () => {
  for (const c of cases) {
    it(`${c.name}: a foreign id and a missing id do the same work before answering the same 404`, async () => {
      const token = await tokenFor("alice");
      const send = async (id: string) => {
        const [path, init] = c.request(id);
        const headers = new Headers(init.headers);
        headers.set("authorization", `Bearer ${token}`);
        return traced(path, { ...init, headers });
      };
      const foreign = await send(c.foreign());
      const missing = await send(newId(c.prefix));
      expect(foreign.status).toBe(404);
      expect(missing.status).toBe(404);
      const strip = (b: Record<string, unknown>) => ({ ...b, requestId: "", instance: "" });
      expect(strip(foreign.body)).toEqual(strip(missing.body));
      expect(foreign.before.length).toBeGreaterThan(0);
      expect(foreign.before).toEqual(missing.before);
      // Nothing before the answer touches the security log or asks who else owns the id.
      expect(foreign.before.some((sql) => /security_log/.test(sql))).toBe(false);
      // Afterwards the probe on the foreign id is still recorded; the missing one is not.
      const logged = await probesFor(foreign.requestId);
      expect(logged.map((r) => r.kind)).toEqual(["not_found_probe"]);
      expect(logged[0]?.userId).toBe(alice);
      expect(await probesFor(missing.requestId)).toEqual([]);
      expect(foreign.after.length).toBeGreaterThan(0);
    });
  }

});
