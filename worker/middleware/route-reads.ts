/**
 * A route's own D1 reads, declared so that requireAuth can send them in the
 * same batch as the user lookup (docs/decisions/0028). For a session token
 * this isolate verified before, the user it belonged to is known before the
 * lookup runs: the lookup and the route's reads for that user go to D1 as one
 * batch (one transaction, one round trip), with the user's data key loading
 * from R2 and the rate limit counting alongside. The results are kept only if
 * the lookup confirms that user (same account, not being deleted, session not
 * older than a deletion); otherwise, and for API keys, first sign-ins and
 * tokens not seen before, `results` runs the reads itself after
 * authentication, exactly as a route without declared reads would.
 */
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { Services } from "../services";

/** A statement that can go in a D1 batch and say what it will run. */
export type Read = BatchItem<"sqlite"> & { toSQL(): { sql: string; params: unknown[] } };
export type Reads = readonly [Read, ...Read[]];

export interface RouteReads<R extends Reads = Reads> {
  /**
   * The statements for this user and request, or null when the request does
   * not yet parse (the middleware runs before the route's validators): the
   * route then reads after validation, or answers 400 first.
   */
  readonly build: (s: Services, userId: string, c: Context<AppEnv>) => R | null;
  /** Also load the user's data key (R2) alongside, for routes that open or seal fields. */
  readonly dataKey: boolean;
  /** The results for the authenticated user: prefetched with the lookup, or read now. */
  results(c: Context<AppEnv>): Promise<BatchResponse<R>>;
}

/** What requireAuth read with the lookup, for whom, for which declaration and with which statements. */
export interface Prefetched {
  reads: RouteReads;
  userId: string;
  statements: Reads;
  results: unknown[];
}

const prefetchedByRequest = new WeakMap<Request, Prefetched>();

/** Called by requireAuth once the lookup has confirmed `userId`. */
export function keepPrefetched(c: Context<AppEnv>, prefetched: Prefetched): void {
  prefetchedByRequest.set(c.req.raw, prefetched);
}

/** Called by requireAuth when the route has answered: results never outlive the pass they were read for. */
export function forgetPrefetched(c: Context<AppEnv>): void {
  prefetchedByRequest.delete(c.req.raw);
}

/** The same statements: same SQL text and parameters, in the same order. */
function sameStatements(a: Reads, b: Reads): boolean {
  return a.length === b.length && a.every((st, i) => JSON.stringify(st.toSQL()) === JSON.stringify(b[i]?.toSQL()));
}

export function routeReads<R extends Reads>(build: (s: Services, userId: string, c: Context<AppEnv>) => R | null, opts: { dataKey?: boolean } = {}): RouteReads<R> {
  const reads: RouteReads<R> = {
    build,
    dataKey: opts.dataKey === true,
    async results(c) {
      const s = c.get("services");
      const { userId } = c.get("auth");
      const statements = build(s, userId, c);
      if (!statements) throw new Error("route reads asked for before the request was validated");
      const kept = prefetchedByRequest.get(c.req.raw);
      prefetchedByRequest.delete(c.req.raw);
      // Used only for this declaration, this user and the very statements the route would run now.
      if (kept && kept.reads === reads && kept.userId === userId && sameStatements(kept.statements, statements)) {
        // The batch was built by this declaration's `build` with these statements: its results have their types.
        return kept.results as BatchResponse<R>;
      }
      return s.db.batch(statements);
    },
  };
  return reads;
}
