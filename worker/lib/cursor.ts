/**
 * Opaque keyset cursors for lists ordered newest first by (created_at, id):
 * the pair is unique, so a page boundary never skips or repeats a row the way
 * a timestamp-only cursor would when two rows share a millisecond.
 */
import { and, desc, sql, type Column, type SQL } from "drizzle-orm";
import { DomainError } from "./domain-error";
import { base64UrlDecode, base64UrlEncode, utf8 } from "./bytes";

export interface KeysetCursor {
  createdAt: number;
  id: string;
}

export function encodeKeysetCursor(c: KeysetCursor): string {
  return base64UrlEncode(utf8(`${c.createdAt}.${c.id}`));
}

/** Parses a cursor made by encodeKeysetCursor whose id has `idPrefix`; anything else is a 400 naming `cursor`. */
export function decodeKeysetCursor(cursor: string, idPrefix: string): KeysetCursor {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(base64UrlDecode(cursor));
  } catch {
    text = "";
  }
  const m = /^(\d{1,15})\.([a-z]{3}_[0-9a-f]{32})$/.exec(text);
  const createdAt = m?.[1];
  const id = m?.[2];
  if (!createdAt || !id || !id.startsWith(`${idPrefix}_`)) {
    throw new DomainError("invalid", "The cursor is not valid.", { fields: [{ field: "cursor", message: "use nextCursor from the previous page" }] });
  }
  return { createdAt: Number(createdAt), id };
}

/** The rows after `after` in newest-first (created_at, id) order: the where-clause every keyset list pages with. */
export function olderThan(createdAt: Column, id: Column, after: KeysetCursor): SQL {
  return sql`(${createdAt} < ${after.createdAt} OR (${createdAt} = ${after.createdAt} AND ${id} < ${after.id}))`;
}

/**
 * Where and order of one newest-first keyset page: `mine` (the owner scope)
 * alone for the first page, narrowed by olderThan after a cursor.
 */
export function keysetQuery(
  mine: SQL | undefined,
  createdAt: Column,
  id: Column,
  after: KeysetCursor | null,
): { where: SQL | undefined; orderBy: [SQL, SQL] } {
  return { where: after ? and(mine, olderThan(createdAt, id, after)) : mine, orderBy: [desc(createdAt), desc(id)] };
}

/** Splits rows fetched with `limit + 1` into the page and the cursor of its last row, or null when nothing follows. */
export function keysetPage<T extends KeysetCursor>(rows: T[], limit: number): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeKeysetCursor(last) : null };
}
