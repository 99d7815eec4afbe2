/**
 * A route's reads sent in the user lookup's batch (docs/decisions/0028): one
 * D1 round trip before the answer for a cached session, and the reads are
 * used only for the user the lookup confirms. Deleted and mid-deletion
 * accounts are refused with the reads prefetched: test/security/session-cache.test.ts.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { tombstones, users } from "../../worker/db/schema";
import { localSubject } from "../../worker/auth/local-idp";
import { subjectLookup } from "../../worker/services/users";
import { API, api, expectProblem, json, services, signIn, tokenFor } from "../helpers";
import { insertGeneration, insertGenerationRow, insertObjectRow } from "../access/fixtures";

/** The D1 binding, counting round trips: one per batch, one per statement run alone. */
function countingD1(db: D1Database): { d1: D1Database; trips: string[] } {
  const trips: string[] = [];
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (st: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(st, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "all" || prop === "raw" || prop === "first" || prop === "run") {
          return (...args: unknown[]) => {
            trips.push(String(prop));
            return (Reflect.get(target, prop) as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return passThrough(target, prop);
      },
    });
    real.set(proxy, st);
    return proxy;
  };
  const d1 = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          trips.push(`batch(${statements.length})`);
          return target.batch(statements.map((st) => real.get(st) ?? st));
        };
      }
      return passThrough(target, prop);
    },
  });
  return { d1, trips };
}

/** A property of the real object, methods bound to it. */
function passThrough(target: object, prop: string | symbol): unknown {
  const value: unknown = Reflect.get(target, prop);
  return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}

const app = createApp();

async function call(path: string, token: string): Promise<{ res: Response; trips: string[] }> {
  const { d1, trips } = countingD1(env.DB);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${API}${path}`, { headers: { authorization: `Bearer ${token}` } }), { ...env, DB: d1 }, ctx);
  // Round trips until the answer; the sealer's (after the answer) are not counted.
  const before = [...trips];
  await waitOnExecutionContext(ctx);
  return { res, trips: before };
}

describe("route reads with the user lookup: happy", () => {
  it("GET /v1/me with a cached session is one D1 round trip: the lookup, the row and the balance in one batch", async () => {
    const token = await tokenFor("reads-me");
    await signIn("reads-me");
    // First call verifies the token and caches it; the second is the cached path.
    expect((await call("/v1/me", token)).res.status).toBe(200);
    const { res, trips } = await call("/v1/me", token);
    expect(res.status).toBe(200);
    expect(trips).toEqual(["batch(3)"]);
    expect(await json(res)).toMatchObject({ credits: expect.any(Number), consent: { version: expect.any(String) } });
  });

  it("GET /v1/generations/:id with a cached session reads in the lookup's batch, then records its audit entries: two round trips", async () => {
    const token = await tokenFor("reads-gen");
    const userId = await signIn("reads-gen");
    const id = await insertGenerationRow({ userId });
    expect((await call(`/v1/generations/${id}`, token)).res.status).toBe(200);
    const { res, trips } = await call(`/v1/generations/${id}`, token);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id });
    expect(trips).toEqual(["batch(3)", "batch(1)"]);
  });

  it("the gallery pages through a cached session with each page and its outputs in the lookup's batch: every generation once, outputs only on completed ones", async () => {
    const token = await tokenFor("reads-gallery");
    const userId = await signIn("reads-gallery");
    const done = [await insertGeneration(userId), await insertGeneration(userId), await insertGeneration(userId)];
    const running = [await insertGeneration(userId, "queued"), await insertGeneration(userId, "failed")];
    const outputs = new Map<string, string>();
    for (const id of done) outputs.set(id, await insertObjectRow(userId, "output", id));
    // An output row of a generation that is not completed is never shown.
    await insertObjectRow(userId, "output", running[1]);
    // Someone else's generation and output stay out of every page.
    const otherId = await signIn("reads-gallery-other");
    const theirs = await insertGeneration(otherId);
    await insertObjectRow(otherId, "output", theirs);
    expect((await call("/v1/me", token)).res.status).toBe(200);

    type Page = { items: { id: string; status: string; outputs: { id: string }[] }[]; nextCursor: string | null };
    const seen: Page["items"] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/generations?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const { res, trips } = await call(path, token);
      expect(res.status).toBe(200);
      // The lookup, the page and its outputs; then the audit entries (generation.listed, and link.issued when it has images).
      expect(trips[0]).toBe("batch(3)");
      expect(trips.slice(1)).toEqual([expect.stringMatching(/^batch\([12]\)$/)]);
      const page: Page = await json<Page>(res);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((g) => g.id).sort()).toEqual([...done, ...running].sort());
    for (const g of seen) expect(g.outputs.map((o) => o.id)).toEqual(outputs.has(g.id) ? [outputs.get(g.id)] : []);
  });
});

describe("route reads with the user lookup: security", () => {
  it("the data key read alongside the lookup is read-only: an account mid-deletion keeps its legacy key file where it was, untouched", async () => {
    const user = "reads-peek";
    const token = await tokenFor(user);
    const userId = await signIn(user);
    expect((await api("/v1/me", { token })).status).toBe(200);
    // The key file where it lived before decision 0011, and a deletion started in another isolate.
    const file = await env.KEYS.get(`keys/${userId}`);
    if (!file) throw new Error("no key file");
    await env.BUCKET.put(`keys/${userId}`, await file.text(), { customMetadata: file.customMetadata ?? {} });
    await env.KEYS.delete(`keys/${userId}`);
    const s = services();
    await s.db.insert(tombstones).values({ userId, externalId: await subjectLookup(s.config, localSubject(user)), stage: "started", createdAt: Date.now(), updatedAt: Date.now() });
    const { res } = await call("/v1/me", token);
    await expectProblem(res, 401, "account_deleted");
    expect(await env.BUCKET.head(`keys/${userId}`)).not.toBeNull();
    expect(await env.KEYS.head(`keys/${userId}`)).toBeNull();
  });

  it("a gallery cursor that does not parse is 400 through the cached path too", async () => {
    const token = await tokenFor("reads-cursor");
    await signIn("reads-cursor");
    expect((await api("/v1/me", { token })).status).toBe(200);
    await expectProblem(await api("/v1/generations?cursor=%25%25%25", { token }), 400, "validation_failed");
  });

  it("reads made for the user a token had last time are not used when the lookup finds another account of that subject", async () => {
    const token = await tokenFor("reads-switch");
    const first = await signIn("reads-switch");
    expect((await api("/v1/me", { token })).status).toBe(200);
    // Another account row for the same subject (as after a completed deletion and a new sign-up).
    const s = services();
    const [row] = await s.db.select().from(users).where(eq(users.id, first));
    if (!row) throw new Error("no user row");
    const second = `usr_${"5".repeat(32)}`;
    await s.db.delete(users).where(eq(users.id, first));
    await s.db.insert(users).values({ ...row, id: second, consentVersion: null, consentAt: null });
    const res = await api("/v1/me", { token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id: second });
  });

  it("a generation of another user is 404 through the cached path, and a malformed id is 400 before any read", async () => {
    const token = await tokenFor("reads-owner");
    await signIn("reads-owner");
    const otherId = await signIn("reads-other");
    const theirs = await insertGenerationRow({ userId: otherId });
    expect((await api("/v1/me", { token })).status).toBe(200);
    await expectProblem(await api(`/v1/generations/${theirs}`, { token }), 404, "not_found");
    const { res, trips } = await call("/v1/generations/gen_not-an-id", token);
    await expectProblem(res, 400, "validation_failed");
    // The lookup ran (authentication comes first); the route's reads did not.
    expect(trips).toEqual(["raw"]);
  });
});
