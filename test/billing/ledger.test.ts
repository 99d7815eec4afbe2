/**
 * The credits ledger (issue 7): balance = sum of entries; GET /v1/billing/ledger
 * pages newest first without skipping rows that share a millisecond; the
 * reservation helpers the generation pipeline uses work inside a D1 batch.
 */
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { ledger } from "../../worker/db/schema";
import { appendLedger, refundReservation, reservationMade, reserveStatement } from "../../worker/services/credits";
import { balanceOf } from "../../worker/services/users";
import { api, expectProblem, json, services, signIn, signedInUsers } from "../helpers";
import type { components } from "../../web/src/lib/api/schema";
import { balance, FREE_CREDITS } from "./helpers";

/** GET /v1/billing/ledger, as the OpenAPI document declares it. */
type Entry = components["schemas"]["LedgerEntry"];
type Page = components["schemas"]["LedgerPage"];

const signedIn = signedInUsers("alice", "bob");

beforeAll(async () => {
  const s = services();
  // 25 purchases, several sharing one millisecond, to walk page boundaries.
  const base = Date.now();
  for (let i = 0; i < 25; i++) {
    await appendLedger(s.db, { userId: signedIn.alice, delta: 1, reason: "adjustment", reference: `adj_${i}` }, base + Math.floor(i / 4));
  }
});

describe("balance and ledger: happy", () => {
  it("balance is the sum of the ledger, in /v1/billing/balance and /v1/me alike", async () => {
    expect(await balance("alice")).toBe(FREE_CREDITS + 25);
    const me = await json<{ credits: number }>(await api("/v1/me", { user: "alice" }));
    expect(me.credits).toBe(FREE_CREDITS + 25);
    expect(await balanceOf(services().db, signedIn.alice)).toBe(FREE_CREDITS + 25);
  });

  it("pages newest first through every entry exactly once", async () => {
    const seen: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=7&cursor=${encodeURIComponent(cursor)}` : "?limit=7";
      const res = await api(`/v1/billing/ledger${q}`, { user: "alice" });
      expect(res.status).toBe(200);
      const page = await json<Page>(res);
      expect(page.entries.length).toBeLessThanOrEqual(7);
      seen.push(...page.entries);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toHaveLength(26);
    expect(new Set(seen.map((e) => e.id)).size).toBe(26);
    const times = seen.map((e) => Date.parse(e.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(seen.at(-1)).toMatchObject({ reason: "free_grant", delta: FREE_CREDITS, reference: signedIn.alice });
    expect(seen.reduce((sum, e) => sum + e.delta, 0)).toBe(FREE_CREDITS + 25);
  });

  it("a user sees only their own entries", async () => {
    const page = await json<Page>(await api("/v1/billing/ledger", { user: "bob" }));
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]).toMatchObject({ reason: "free_grant", reference: signedIn.bob });
    expect(JSON.stringify(page)).not.toContain(signedIn.alice);
  });
});

describe("balance and ledger: errors", () => {
  it("unauthenticated: 401", async () => {
    await expectProblem(await api("/v1/billing/ledger"), 401, "unauthorized");
    await expectProblem(await api("/v1/billing/balance"), 401, "unauthorized");
  });

  it("a forged or foreign cursor is a 400 naming the field, not a 500", async () => {
    for (const cursor of ["garbage", btoa("1.key_00000000000000000000000000000000"), "%%%", "a".repeat(150)]) {
      const problem = await expectProblem(await api(`/v1/billing/ledger?cursor=${encodeURIComponent(cursor)}`, { user: "alice" }), 400, "validation_failed");
      expect(JSON.stringify(problem["errors"])).toContain("cursor");
    }
  });

  it("limit out of range is a 400", async () => {
    await expectProblem(await api("/v1/billing/ledger?limit=0", { user: "alice" }), 400, "validation_failed");
    await expectProblem(await api("/v1/billing/ledger?limit=1000", { user: "alice" }), 400, "validation_failed");
  });
});

describe("ledger helpers used by the generation pipeline", () => {
  it("reserveStatement reserves inside a D1 batch only when the balance covers it, and refundReservation refunds once", async () => {
    const carol = await signIn("carol");
    const s = services();
    const now = Date.now();
    await s.db.batch([reserveStatement(s.db, carol, FREE_CREDITS, "gen_test_all", now), s.db.select().from(ledger).where(eq(ledger.userId, carol))]);
    expect(await reservationMade(s.db, "gen_test_all")).toBe(true);
    expect(await balanceOf(s.db, carol)).toBe(0);

    await s.db.batch([reserveStatement(s.db, carol, 1, "gen_test_broke", now)]);
    expect(await reservationMade(s.db, "gen_test_broke")).toBe(false);
    expect(await balanceOf(s.db, carol)).toBe(0);

    expect(await refundReservation(s.db, "gen_test_all", now)).toBe(true);
    expect(await refundReservation(s.db, "gen_test_all", now)).toBe(false);
    expect(await balanceOf(s.db, carol)).toBe(FREE_CREDITS);
    const refunds = await s.db.select().from(ledger).where(and(eq(ledger.reason, "refund"), eq(ledger.reference, "gen_test_all"))).all();
    expect(refunds).toHaveLength(1);
  });
});
