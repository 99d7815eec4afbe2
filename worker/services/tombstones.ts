/**
 * Whether an account deletion is under way, kept apart from deletion.ts so
 * the auth middleware can ask without importing the deletion machinery.
 */
import { eq, inArray, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { tombstones } from "../db/schema";

/**
 * True while a tombstone exists for this user or identity. Authentication
 * refuses such callers, so nothing is written for an account while it is
 * being erased (and a still-valid session cannot recreate it midway).
 * `externalId`: the stored forms to match (the keyed subject lookup, and the
 * plain subject a tombstone from before decision 0022 holds).
 */
export async function isBeingDeleted(s: { db: Db }, who: { userId?: string; externalId?: readonly string[] }): Promise<boolean> {
  const conds = [...(who.userId ? [eq(tombstones.userId, who.userId)] : []), ...(who.externalId?.length ? [inArray(tombstones.externalId, [...who.externalId])] : [])];
  if (conds.length === 0) return false;
  const row = await s.db
    .select({ u: tombstones.userId })
    .from(tombstones)
    .where(conds.length === 1 ? conds[0] : or(...conds))
    .get();
  return row !== undefined;
}
