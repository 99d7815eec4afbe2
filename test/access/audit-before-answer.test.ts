/**
 * "Every access is recorded before the answer" (docs/decisions/0018): an
 * entry must be in D1 (`audit_pending`, or already chained in `audit_log`)
 * when the response leaves the Worker, so a Worker that dies right after
 * answering loses nothing. The usual harness (SELF.fetch) finishes the
 * request's `waitUntil` work before a test reads, so it cannot tell an
 * awaited insert from one moved into `waitUntil`. Here the app runs with an
 * execution context whose `waitUntil` tasks are never awaited, and every D1
 * call the request's code starts after the answer arrived is held back until
 * the test has looked: only what was written before the answer is visible.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { auditLog, auditPending } from "../../worker/db/schema";
import { loadChain, verifyChain } from "../../worker/services/audit";
import { API, services, signIn, tokenFor } from "../helpers";
import { insertApiKey, insertGeneration, insertObjectRow } from "./fixtures";

/**
 * Closes when the answer arrives; D1 calls that reach it after that wait until
 * `release`. Every call first waits one timer tick, so a call the request
 * started without awaiting it (a `waitUntil` task, started microtasks before
 * the answer) reaches the gate only once the answer is out, while an awaited
 * one is merely a tick slower.
 */
class AnswerGate {
  closed = false;
  held = 0;
  private open: () => void = () => undefined;
  private readonly opened = new Promise<void>((resolve) => {
    this.open = resolve;
  });

  async pass(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (!this.closed) return;
    this.held++;
    await this.opened;
  }

  release(): void {
    this.open();
  }
}

const STATEMENT_RUNS = new Set<PropertyKey>(["first", "run", "all", "raw"]);

/** env.DB as the app sees it: every query and batch passes the gate first. */
function gatedDb(real: D1Database, gate: AnswerGate): D1Database {
  const unwrap = new WeakMap<object, D1PreparedStatement>();
  const statement = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (prop === "bind") return (...args: unknown[]) => statement(fn.apply(target, args) as D1PreparedStatement);
        if (STATEMENT_RUNS.has(prop)) {
          return async (...args: unknown[]) => {
            await gate.pass();
            return fn.apply(target, args);
          };
        }
        return fn.bind(target);
      },
    });
    unwrap.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => statement(target.prepare(query));
      if (prop === "batch") {
        return async (stmts: D1PreparedStatement[]) => {
          await gate.pass();
          return target.batch(stmts.map((s) => unwrap.get(s) ?? s));
        };
      }
      if (prop === "exec") {
        return async (query: string) => {
          await gate.pass();
          return target.exec(query);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const app = createApp();

/**
 * One request through the app with `waitUntil` tasks kept, never awaited, and
 * the D1 gate closed the moment the answer arrives. `inspect` runs then, on
 * the ungated database; afterwards the held work is let through and awaited.
 */
async function answeredThen(path: string, bearer: string, inspect: (res: Response) => Promise<void>): Promise<void> {
  const gate = new AnswerGate();
  const tasks: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (task: Promise<unknown>) => void tasks.push(task),
    passThroughOnException: () => undefined,
    props: {},
  };
  const res = await app.fetch(new Request(`${API}${path}`, { headers: { authorization: `Bearer ${bearer}` } }), { ...env, DB: gatedDb(env.DB, gate) }, ctx);
  gate.closed = true;
  try {
    await inspect(res);
  } finally {
    gate.release();
    await Promise.allSettled(tasks);
  }
}

/** The actions recorded (pending or chained) for a request id, read in one snapshot. */
async function recordedFor(requestId: string | null): Promise<string[]> {
  expect(requestId).toMatch(/^req_/);
  const db = services().db;
  const [chained, pending] = await db.batch([
    db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.requestId, requestId ?? "")),
    db.select({ action: auditPending.action }).from(auditPending).where(eq(auditPending.requestId, requestId ?? "")),
  ]);
  return [...chained, ...pending].map((r) => r.action).sort();
}

let erin = "";

beforeAll(async () => {
  erin = await signIn("before-answer-erin");
});

describe("audit before the answer: security", () => {
  it("a generation read's entries (generation.viewed, link.issued) are in D1 when its answer arrives", async () => {
    const gen = await insertGeneration(erin);
    await insertObjectRow(erin, "output", gen);
    await answeredThen(`/v1/generations/${gen}`, await tokenFor("before-answer-erin"), async (res) => {
      expect(res.status).toBe(200);
      expect(await recordedFor(res.headers.get("x-request-id"))).toEqual(["generation.viewed", "link.issued"]);
    });
    // Once the held work ran, the chain still verifies.
    expect((await verifyChain(await loadChain(services().db, erin))).ok).toBe(true);
  });

  it("through an API key, its use and the read (api_key.used, generation.viewed, link.issued) are in D1 when the answer arrives", async () => {
    const gen = await insertGeneration(erin);
    await insertObjectRow(erin, "output", gen);
    const key = await insertApiKey(erin, ["generations:read"]);
    await answeredThen(`/v1/generations/${gen}`, key.secret, async (res) => {
      expect(res.status).toBe(200);
      expect(await recordedFor(res.headers.get("x-request-id"))).toEqual(["api_key.used", "generation.viewed", "link.issued"]);
    });
  });
});
