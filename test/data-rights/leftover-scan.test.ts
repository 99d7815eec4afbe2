/**
 * Zero leftovers (issue 14 §5). A rich account is built through the API
 * (uploaded photos, a generation run through the queue and the model fake,
 * links used and refused, an API key, an export, audit and security-log
 * entries, a probe by another user), then deleted, and once the queue has
 * finished, EVERY table the database has (from sqlite_master) in every column,
 * and every R2 key with its metadata, is scanned for the user's internal id,
 * subject, email, each object, generation, export and key id, and the
 * signatures of links issued to them: zero hits. What remains is the receipt,
 * keyed by an HMAC. Another user's data is untouched. The scanner is checked
 * against a planted leftover, so a scan that finds nothing means something.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { localSubject } from "../../worker/auth/local-idp";
import { deletionReceipts, objects, securityLog, tombstones } from "../../worker/db/schema";
import { sha256Hex } from "../../worker/lib/bytes";
import { JobMessageSchema } from "../../worker/queue/messages";
import { subjectHash } from "../../worker/services/deletion";
import { getObject } from "../../worker/services/storage";
import { api, json, services, tokenFor } from "../helpers";
import { upload } from "../intake/helpers";
import { fakeFalForEachTest, makeJpeg, type FakeFal } from "../pipeline/fake-fal";
import { consentingUser, postGeneration, waitFor } from "../pipeline/fixtures";
import { allTables } from "./fixtures";

interface Hit {
  where: string;
  needle: string;
}

const decoder = new TextDecoder();

/** Every text form a stored value can take: strings as is, numbers as digits, blobs as UTF-8 and as hex. */
function textsOf(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === "string") return [value];
  if (typeof value === "number" || typeof value === "bigint") return [String(value)];
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : Array.isArray(value) ? Uint8Array.from(value as number[]) : null;
  if (bytes) return [decoder.decode(bytes), [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")];
  return [JSON.stringify(value)];
}

/** Scans every column of every row of every table, and every R2 key and its metadata, for the needles. */
async function scan(needles: readonly string[]): Promise<Hit[]> {
  const hits: Hit[] = [];
  const check = (where: string, texts: string[]) => {
    for (const needle of needles) if (texts.some((t) => t.includes(needle))) hits.push({ where, needle });
  };
  for (const table of await allTables()) {
    const cols = (await env.DB.prepare(`SELECT name FROM pragma_table_info(?)`).bind(table).all<{ name: string }>()).results.map((c) => c.name);
    expect(cols.length).toBeGreaterThan(0);
    const rows = await env.DB.prepare(`SELECT * FROM "${table}"`).raw();
    for (const row of rows) row.forEach((v, i) => check(`${table}.${cols[i] ?? i}`, textsOf(v)));
  }
  // The data bucket, the key bucket and the backup bucket (decision 0011).
  for (const [name, bucket] of [["r2", env.BUCKET], ["keys", env.KEYS], ["backup", env.BACKUP]] as const) {
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ limit: 1000, include: ["customMetadata", "httpMetadata"], ...(cursor ? { cursor } : {}) });
      for (const o of page.objects) check(`${name}:${o.key}`, [o.key, JSON.stringify(o.customMetadata ?? {}), JSON.stringify(o.httpMetadata ?? {})]);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return hits;
}

const sigOf = (url: string) => new URL(url).searchParams.get("sig") ?? "";
const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;

async function waitUntil(what: string, done: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

interface Rich {
  user: string;
  userId: string;
  email: string;
  ids: string[];
  sigs: string[];
  /** Paths of the file links issued to the user (used and refused ones). */
  links: string[];
}

/** A user with every kind of data the service keeps, all made through the API. */
async function richAccount(fal: FakeFal, user: string, email: string, seed: number): Promise<Rich> {
  const userId = await consentingUser(user);
  // Keep parent photos 7 days so they are still there to be deleted with the account.
  expect((await api("/v1/me/settings", { method: "PATCH", user, headers: { "content-type": "application/json" }, body: JSON.stringify({ keepPhotosDays: 7 }) })).status).toBe(200);
  const mother = (await json<{ id: string }>((await upload(user, makeJpeg(400, 300, seed))).res)).id;
  const father = (await json<{ id: string }>((await upload(user, makeJpeg(300, 400, seed + 1))).res)).id;

  const created = await json<{ id: string }>(await postGeneration(user, { motherPhotoId: mother, fatherPhotoId: father, gender: "girl", ageGroup: "toddler", resemblance: 0.6, images: 2 }));
  const submitted = await waitFor(created.id, (r) => r.status === "submitted");
  fal.complete(submitted.providerRequestId ?? "");
  expect((await fal.webhook(submitted.providerRequestId ?? "")).status).toBe(200);
  const gen = await json<{ outputs: { id: string; url: string | null }[] }>(await api(`/v1/generations/${created.id}`, { user }));
  const outputs = gen.outputs.map((o) => o.id);
  expect(outputs).toHaveLength(2);
  const links = gen.outputs.map((o) => o.url ?? "");

  // A link used, a tampered one refused (signature_failed), an id probed by another caller and by a bad token.
  const used = await api(pathOf(links[0] ?? ""));
  expect(used.status).toBe(200);
  await used.arrayBuffer();
  const tampered = pathOf(links[1] ?? "").replace(/sig=[^&]+/, `sig=${"A".repeat(43)}`);
  expect((await api(tampered)).status).toBe(403);
  expect((await api(`/v1/photos/${mother}`, { user: "leftover-prober" })).status).toBe(404);
  expect((await api(`/v1/generations/${created.id}`, { token: "not-a-valid-token-at-all" })).status).toBe(401);

  const key = await json<{ id: string; secret: string }>(
    await api("/v1/api-keys", { method: "POST", user, headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "scan", scopes: ["photos:read", "generations:read", "account:read"] }) }),
  );
  expect((await api("/v1/generations", { token: key.secret })).status).toBe(200);

  const exp = await json<{ id: string }>(await api("/v1/account/exports", { method: "POST", user }));
  let download = "";
  await waitUntil("export ready", async () => {
    const view = await json<{ status: string; download: { url: string } | null }>(await api(`/v1/account/exports/${exp.id}`, { user }));
    download = view.download?.url ?? "";
    return view.status === "ready";
  });
  const zip = await api(pathOf(download));
  expect(zip.status).toBe(200);
  await zip.arrayBuffer();
  const exportObject = (await services().db.select({ id: objects.id }).from(objects).where(eq(objects.userId, userId)).all()).map((r) => r.id);

  return {
    user,
    userId,
    email,
    ids: [userId, localSubject(user), mother, father, created.id, ...outputs, exp.id, key.id, ...exportObject, submitted.providerRequestId ?? ""].filter(Boolean),
    sigs: [...links, download].map(sigOf).filter(Boolean),
    links: [...links, download].map(pathOf),
  };
}

const fal = fakeFalForEachTest();

describe("leftover scan", () => {
  it("after an account deletion and the queue, no table column and no R2 key names the user; another user is untouched", async () => {
    // Local users' emails come from the IdP (alice/bob/carol); the scan user has alice's.
    const rich = await richAccount(fal, "alice", "alice@example.test", 40);
    const other = await richAccount(fal, "bob", "bob@example.test", 50);
    const needles = [...rich.ids, rich.email, ...rich.sigs];

    // The scan sees the account before deletion (everywhere it should).
    const before = await scan(needles);
    for (const where of ["users.", "objects.", "generations.", "audit_log.", "security_log.", "api_keys.", "exports.", "ledger.", "r2:u/", "keys:keys/"]) {
      expect(before.some((h) => h.where.startsWith(where)), `expected a hit in ${where}`).toBe(true);
    }
    const otherObjects = await services().db.select().from(objects).where(eq(objects.userId, other.userId)).all();
    const otherBytes = await Promise.all(otherObjects.map(async (o) => (await getObject(services(), other.userId, o.id))?.bytes));

    const res = await api("/v1/account", { method: "DELETE", user: rich.user, headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) });
    expect(res.status).toBe(200);
    const receipt = await json<{ receipt: { id: string; subjectHash: string } }>(res);
    // The queue runs to completion: no tombstone left, and nothing of the user still in flight.
    await waitUntil("deletion finished", async () => (await services().db.select().from(tombstones).all()).length === 0);
    await new Promise((r) => setTimeout(r, 500));

    // A link of the deleted account presented afterwards is refused and logged, without naming what it pointed at.
    expect((await api(rich.links[0] ?? "")).status).toBe(403);
    expect(await scan(needles)).toEqual([]);

    // What remains is the receipt, keyed by an HMAC rather than a hash anyone could recompute.
    const row = await services().db.select().from(deletionReceipts).where(eq(deletionReceipts.id, receipt.receipt.id)).get();
    expect(row?.subjectHash).toBe(await subjectHash(services(), "account", rich.userId));
    expect(row?.subjectHash).not.toBe(await sha256Hex(`babypic-deletion-v1|account|${rich.userId}`));
    expect(row?.subjectHash).not.toBe(await sha256Hex(rich.userId));

    // The other user: every object still there and decrypting to the same bytes, their ids still found.
    const after = await services().db.select().from(objects).where(eq(objects.userId, other.userId)).all();
    expect(after.map((o) => o.id).sort()).toEqual(otherObjects.map((o) => o.id).sort());
    for (const [i, o] of otherObjects.entries()) expect((await getObject(services(), other.userId, o.id))?.bytes).toEqual(otherBytes[i]);
    expect((await scan([other.userId, other.email])).length).toBeGreaterThan(0);

    // The scanner finds a leftover planted anywhere: a security-log row naming a photo id, an R2 key.
    const planted = rich.ids[2] ?? "";
    await services().db.insert(securityLog).values({ id: "sec_planted", at: Date.now(), kind: "link_refused", detail: JSON.stringify({ path: `/v1/files/${planted}` }) });
    await env.BUCKET.put(`u/${rich.userId}/photo/planted`, new Uint8Array([1]));
    const found = await scan(needles);
    expect(found).toContainEqual({ where: "security_log.detail", needle: planted });
    expect(found.some((h) => h.where === `r2:u/${rich.userId}/photo/planted`)).toBe(true);
    await services().db.delete(securityLog).where(eq(securityLog.id, "sec_planted"));
    await env.BUCKET.delete(`u/${rich.userId}/photo/planted`);
  });

  it("no queue message kind carries an email address or a URL", () => {
    const fields = JobMessageSchema.options.flatMap((o) => Object.keys(o.shape));
    expect(fields.length).toBeGreaterThan(0);
    for (const f of fields) expect(f).not.toMatch(/mail|url|link|sig/i);
  });

  it("a session token from before the deletion does not bring any of it back", async () => {
    const old = await tokenFor("carol");
    const rich = await richAccount(fal, "carol", "carol@example.test", 60);
    expect((await api("/v1/account", { method: "DELETE", token: old, headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) })).status).toBe(200);
    expect((await api("/v1/me", { token: old })).status).toBe(401);
    expect(await scan([rich.userId, rich.email, localSubject("carol")])).toEqual([]);
  });
});
