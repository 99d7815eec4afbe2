import { drizzle } from "drizzle-orm/d1";

export type Db = ReturnType<typeof createDb>;

/**
 * A drizzle database over the D1 binding, built once per request (and per
 * queue batch, cron run). No `schema` is passed: nothing uses the relational
 * query API (`db.query.*`), and with a schema drizzle rebuilds the relational
 * config of every table on each call, about 5 % of a read's CPU in the
 * bench:api profile (docs/benchmarks.md).
 */
export function createDb(d1: D1Database) {
  return drizzle(d1);
}
