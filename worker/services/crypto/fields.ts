/**
 * Personal fields in D1, encrypted under the owner's data key (issue 14 item 2,
 * docs/storage-format.md §6, docs/decisions/0012-encrypted-d1-fields.md).
 *
 * D1 Time Travel keeps every row of the last 30 days and cannot be turned
 * off, so a personal value written in clear would outlive the account. Each
 * such value is sealed with AES-256-GCM under a key derived from the user's
 * DEK, and shredding the DEK (account deletion) makes every copy unreadable,
 * Time Travel and exports included.
 *
 *   K_field = HKDF-SHA256(IKM = DEK, salt = "", info = "babypic field key|v1|<table>|<column>")
 *   stored  = "bpf1." || base64url(iv(12) || AES-256-GCM(K_field, iv, utf8(value), aad))
 *   aad     = "babypic-field|v1|<table>|<column>|<rowId>|<userId>"
 *
 * The aad binds the cell, so a ciphertext moved to another row, column or
 * user fails authentication. Values written before this format existed are
 * plain text (no "bpf1." prefix) and read as they are until the migration
 * sweep (worker/services/field-migration.ts) seals them.
 */
import { base64Decode, base64UrlDecode, base64UrlEncode, toHex, utf8 } from "../../lib/bytes";
import { logger } from "../../lib/log";
import type { Config } from "../../env";
import type { Db } from "../../db/client";
import type { Services } from "../types";
import { userDataKey } from "./keys";

export const FIELD_PREFIX = "bpf1.";
const FIELD_VERSION = "v1";
const IV_BYTES = 12;

/** Which cell a value belongs to; all four parts are bound into the ciphertext. */
export interface FieldRef {
  table: string;
  column: string;
  rowId: string;
  userId: string;
}

export class FieldIntegrityError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "FieldIntegrityError";
  }
}

export const isSealed = (stored: string | null | undefined): stored is string => typeof stored === "string" && stored.startsWith(FIELD_PREFIX);

/** Derived column keys, per imported DEK (a DEK lives for one request or job, so this cache does too). */
const columnKeys = new WeakMap<CryptoKey, Map<string, Promise<CryptoKey>>>();

function columnKey(dek: CryptoKey, table: string, column: string): Promise<CryptoKey> {
  let m = columnKeys.get(dek);
  if (!m) {
    m = new Map();
    columnKeys.set(dek, m);
  }
  const label = `${table}|${column}`;
  let k = m.get(label);
  if (!k) {
    k = crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(`babypic field key|${FIELD_VERSION}|${label}`) },
      dek,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
    m.set(label, k);
  }
  return k;
}

function fieldAad(ref: FieldRef): Uint8Array<ArrayBuffer> {
  return utf8(`babypic-field|${FIELD_VERSION}|${ref.table}|${ref.column}|${ref.rowId}|${ref.userId}`);
}

/** Seals one value with a DEK already at hand (HKDF base key from keys.ts). */
export async function sealWith(dek: CryptoKey, ref: FieldRef, value: string): Promise<string> {
  const key = await columnKey(dek, ref.table, ref.column);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: fieldAad(ref) }, key, utf8(value)));
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return FIELD_PREFIX + base64UrlEncode(out);
}

/** Opens a sealed value; throws FieldIntegrityError if it does not authenticate for this cell and key. */
export async function openWith(dek: CryptoKey, ref: FieldRef, stored: string): Promise<string> {
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = base64UrlDecode(stored.slice(FIELD_PREFIX.length));
  } catch {
    throw new FieldIntegrityError("sealed field is not base64url");
  }
  if (raw.length < IV_BYTES + 16) throw new FieldIntegrityError("sealed field is too short");
  const key = await columnKey(dek, ref.table, ref.column);
  try {
    const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: raw.subarray(0, IV_BYTES), additionalData: fieldAad(ref) }, key, raw.subarray(IV_BYTES));
    return new TextDecoder().decode(pt);
  } catch {
    throw new FieldIntegrityError("sealed field does not authenticate for this cell");
  }
}

/**
 * Seals a value for D1 with the user's DEK (one unwrap per request per user:
 * keys.ts caches it per Services). null stays null. With `create: false` a
 * user without a DEK (shredded) gets null: nothing personal is written in clear.
 */
export async function sealField(s: Services, ref: FieldRef, value: string | null | undefined, opts: { create: boolean } = { create: true }): Promise<string | null> {
  if (value === null || value === undefined) return null;
  const dek = await userDataKey(s, ref.userId, opts);
  if (!dek) return null;
  return sealWith(dek, ref, value);
}

/**
 * Reads a field stored in either encoding: a legacy plain value is returned
 * as it is; a sealed one is opened with the user's DEK. null when the DEK is
 * gone (shredded) or the value does not authenticate for this cell (a copied
 * or altered ciphertext); the latter is logged without any value.
 */
export async function openField(s: Services, ref: FieldRef, stored: string | null | undefined): Promise<string | null> {
  if (stored === null || stored === undefined) return null;
  if (!isSealed(stored)) return stored;
  const dek = await userDataKey(s, ref.userId, { create: false });
  if (!dek) return null;
  try {
    return await openWith(dek, ref, stored);
  } catch (err) {
    if (!(err instanceof FieldIntegrityError)) throw err;
    logger.error("field.unreadable", { table: ref.table, column: ref.column, rowId: ref.rowId });
    return null;
  }
}

/** Services by their Db handle, so code that is handed only `db` (the audit log) can reach the user's DEK. */
const servicesByDb = new WeakMap<Db, Services>();

export function registerServices(s: Services): Services {
  servicesByDb.set(s.db, s);
  return s;
}

export function servicesOf(db: Db): Services {
  const s = servicesByDb.get(db);
  if (!s) throw new Error("this Db was not made by createServices; personal fields cannot be sealed");
  return s;
}

const lookupKeys = new WeakMap<Pick<Config, "LOOKUP_HMAC_KEY">, Promise<CryptoKey>>();

/**
 * Keyed hash for equality lookups and comparisons over personal values
 * (HMAC-SHA256 under LOOKUP_HMAC_KEY, with a purpose label): unlike a plain
 * hash it cannot be reversed by hashing guesses without the secret.
 * "h1." || hex.
 */
export async function lookupHash(config: Pick<Config, "LOOKUP_HMAC_KEY">, purpose: string, value: string): Promise<string> {
  let key = lookupKeys.get(config);
  if (!key) {
    key = crypto.subtle.importKey("raw", base64Decode(config.LOOKUP_HMAC_KEY), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    lookupKeys.set(config, key);
  }
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key, utf8(`babypic-lookup|v1|${purpose}|${value}`)));
  return `h1.${toHex(mac)}`;
}
