/** Set-up for the data-rights suites: an account with real encrypted objects, and ways to look at everything R2 and D1 hold. */
import { env } from "cloudflare:test";
import { getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { generateApiKeySecret, hashApiKey } from "../../worker/auth/api-keys";
import { localSubject } from "../../worker/auth/local-idp";
import * as schema from "../../worker/db/schema";
import { apiKeys, payments } from "../../worker/db/schema";
import { newId } from "../../worker/lib/ids";
import { appendLedger } from "../../worker/services/credits";
import { putObject } from "../../worker/services/storage";
import { services, signIn } from "../helpers";
import { insertGenerationRow } from "../access/fixtures";

/** Distinct bytes per seed, with a JPEG signature (storage does not re-validate). */
export function imageBytes(seed: number, size = 3000): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
  }
  out.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return out;
}

export interface SeededAccount {
  user: string;
  userId: string;
  externalId: string;
  generationId: string;
  photoIds: [string, string];
  outputIds: string[];
  apiKeyId: string;
  apiKeySecret: string;
  paymentTxnId: string;
  /** Plaintext of every object, by id. */
  plain: Map<string, Uint8Array>;
}

/**
 * A signed-in account with two parent photos, a completed generation with two
 * outputs, an API key and a payment, all written through the real storage
 * and schema (no upload or model run needed).
 */
export async function seedAccount(user: string, seed = 1): Promise<SeededAccount> {
  const userId = await signIn(user);
  const s = services();
  const plain = new Map<string, Uint8Array>();
  const store = async (kind: "photo" | "output", n: number, generationId: string | null = null) => {
    const bytes = imageBytes(seed * 100 + n);
    const row = await putObject(s, { userId, kind, contentType: "image/jpeg", bytes, width: 300, height: 300, generationId });
    plain.set(row.id, bytes);
    return row.id;
  };
  const mother = await store("photo", 1);
  const father = await store("photo", 2);
  const now = Date.now();
  const generationId = await insertGenerationRow({
    userId,
    motherPhotoId: mother,
    fatherPhotoId: father,
    options: JSON.stringify({ gender: "girl", ageGroup: "newborn", resemblance: 0.5, images: 2 }),
    status: "completed",
    stage: "completed",
    createdAt: now,
    completedAt: now,
  });
  const outputIds = [await store("output", 3, generationId), await store("output", 4, generationId)];
  const secret = generateApiKeySecret();
  const apiKeyId = newId("key");
  await s.db.insert(apiKeys).values({
    id: apiKeyId,
    userId,
    name: "integration",
    prefix: secret.slice(0, 11),
    hash: await hashApiKey(secret),
    scopes: JSON.stringify(["photos:read", "photos:write", "generations:read", "generations:write", "account:read"]),
    createdAt: now,
  });
  const paymentTxnId = `ch_${newId("pay").slice(4)}`;
  await s.db.insert(payments).values({
    id: newId("pay"),
    userId,
    providerTxnId: paymentTxnId,
    productId: "prod_small",
    credits: 10,
    amount: 499,
    currency: "EUR",
    status: "completed",
    createdAt: now,
    updatedAt: now,
  });
  return {
    user,
    userId,
    externalId: localSubject(user),
    generationId,
    photoIds: [mother, father],
    outputIds,
    apiKeyId,
    apiKeySecret: secret,
    paymentTxnId,
    plain,
  };
}

/**
 * A generation still `queued` with its one credit reserved in the ledger (as
 * creating one leaves it), created at `now`; `parents` are its photo ids, if any.
 */
export async function reservedQueuedGeneration(userId: string, now: number, deadlineAt: number, parents?: readonly [string, string]): Promise<string> {
  const id = await insertGenerationRow({ userId, ...(parents ? { motherPhotoId: parents[0], fatherPhotoId: parents[1] } : {}), status: "queued", createdAt: now, deadlineAt });
  await appendLedger(services().db, { userId, delta: -1, reason: "reserve", reference: id }, now);
  return id;
}

/** Every table the database has (not only the ones we know about), minus SQLite's and D1's own. */
export async function allTables(): Promise<string[]> {
  const res = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  ).all<{ name: string }>();
  return res.results.map((r) => r.name).sort();
}

/** The tables the drizzle schema declares. */
export function schemaTables(): string[] {
  const values: unknown[] = Object.values(schema);
  return values.flatMap((v) => (is(v, SQLiteTable) ? [getTableName(v)] : [])).sort();
}

/** Every row, in every table, whose text contains one of the needles. */
export async function rowsMentioning(needles: readonly string[]): Promise<{ table: string; row: string }[]> {
  const hits: { table: string; row: string }[] = [];
  for (const table of await allTables()) {
    const rows = await env.DB.prepare(`SELECT * FROM "${table}"`).all<Record<string, unknown>>();
    for (const row of rows.results) {
      const text = JSON.stringify(row);
      if (needles.some((n) => text.includes(n))) hits.push({ table, row: text });
    }
  }
  return hits;
}

/**
 * Every R2 key in the data bucket and the key bucket (all prefixes). The
 * backup bucket is left out: its copies are meant to outlive a deletion for
 * N days, unreadable (test/data-rights/backups.test.ts).
 */
export async function allR2Keys(): Promise<string[]> {
  const keys: string[] = [];
  for (const bucket of [env.BUCKET, env.KEYS]) {
    let cursor: string | undefined;
    do {
      const page = await bucket.list(cursor ? { cursor, limit: 1000 } : { limit: 1000 });
      keys.push(...page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return keys.sort();
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY_MS = 24 * HOUR;
