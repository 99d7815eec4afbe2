/**
 * Promise: data keys live in R2 only (docs/decisions/0002-keys-in-r2.md). D1
 * Time Travel keeps 30 days of database history that deletion cannot reach,
 * so no DEK, wrapped DEK or KEK may ever be written to any D1 table, in any
 * encoding, or crypto-shredding would not shred.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { base64Decode, base64Encode, base64UrlEncode, toHex } from "../../worker/lib/bytes";
import { unwrapDek } from "../../worker/services/crypto/keys";
import { allTables } from "../data-rights/fixtures";
import { jpegWithExif } from "../fixtures/images";
import { services } from "../helpers";
import { bytesOf, indexOf, upload } from "../intake/helpers";

function encodings(bytes: Uint8Array): string[] {
  return [toHex(bytes), toHex(bytes).toUpperCase(), base64Encode(bytes), base64UrlEncode(bytes)];
}

/** A D1 cell as bytes, whatever the driver hands back for a BLOB. */
function cellBytes(v: unknown): Uint8Array | null {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "number")) return Uint8Array.from(v);
  return null;
}

describe("security: no key material in D1", () => {
  it("after an upload, no table holds the user's DEK, its wrapped form or any KEK, as text or bytes", async () => {
    const { res, userId } = await upload("alice", bytesOf(jpegWithExif), "image/jpeg");
    expect(res.status).toBe(201);

    const keyObj = await env.KEYS.get(`keys/${userId}`);
    expect(keyObj).not.toBeNull();
    const file: unknown = await keyObj?.json();
    const ring = services().config.MASTER_KEYS;
    const { dek } = await unwrapDek(ring, userId, file);
    const parsed = file as { dek: string };

    const secretBytes: Uint8Array[] = [dek, ...Object.values(ring.keys).map((k) => base64Decode(k))];
    const needles = [parsed.dek, ...secretBytes.flatMap(encodings), ...Object.values(ring.keys)];

    const tables = await allTables();
    expect(tables).toContain("objects");
    let rowsSeen = 0;
    for (const table of tables) {
      const rows = await env.DB.prepare(`SELECT * FROM "${table}"`).all<Record<string, unknown>>();
      for (const row of rows.results) {
        rowsSeen++;
        for (const [column, value] of Object.entries(row)) {
          if (typeof value === "string") {
            for (const n of needles) expect(value.includes(n), `${table}.${column} holds key material`).toBe(false);
          }
          const bytes = cellBytes(value);
          if (bytes) {
            for (const s of secretBytes) expect(indexOf(bytes, s), `${table}.${column} holds key bytes`).toBe(-1);
          }
        }
      }
    }
    expect(rowsSeen).toBeGreaterThan(0);
  });
});
