/**
 * Whether a write failed on a unique index. D1 reports it as SQLite's
 * "UNIQUE constraint failed: ..." text, which drizzle wraps in a
 * DrizzleQueryError (as its `cause`), so the chain of causes is searched.
 */
export function isUniqueViolation(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if ((e instanceof Error ? e.message : String(e)).includes("UNIQUE constraint failed")) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}
