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

export type Reads = readonly [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

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

/** What requireAuth read with the lookup, for whom, and for which declaration. */
export interface Prefetched {
  reads: RouteReads;
  userId: string;
  results: unknown[];
}

const prefetchedByRequest = new WeakMap<Request, Prefetched>();

/** Called by requireAuth once the lookup has confirmed `userId`. */
export function keepPrefetched(c: Context<AppEnv>, prefetched: Prefetched): void {
  prefetchedByRequest.set(c.req.raw, prefetched);
}

export function routeReads<R extends Reads>(build: (s: Services, userId: string, c: Context<AppEnv>) => R | null, opts: { dataKey?: boolean } = {}): RouteReads<R> {
  const reads: RouteReads<R> = {
    build,
    dataKey: opts.dataKey === true,
    async results(c) {
      const s = c.get("services");
      const { userId } = c.get("auth");
      const kept = prefetchedByRequest.get(c.req.raw);
      if (kept && kept.reads === reads && kept.userId === userId) {
        prefetchedByRequest.delete(c.req.raw);
        // The batch was built by this declaration's `build` for this user: its results have its types.
        return kept.results as BatchResponse<R>;
      }
      const statements = build(s, userId, c);
      if (!statements) throw new Error("route reads asked for before the request was validated");
      return s.db.batch(statements);
    },
  };
  return reads;
}
