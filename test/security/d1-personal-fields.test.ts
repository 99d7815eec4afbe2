/**
 * Personal fields in D1 are sealed under the owner's data key (issue 14 item 2,
 * docs/storage-format.md §6, docs/decisions/0012-encrypted-d1-fields.md).
 * D1 Time Travel keeps 30 days of every row, so these tests look at the
 * database the way someone holding a copy of it would: every column of every
 * table (found through sqlite_master, not the schema), before and after the
 * account is deleted and its key shredded.
 */
import { env } from "cloudflare:test";
import { unzipSync } from "fflate";
import { eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { TERMS_VERSION } from "../../worker/lib/privacy-facts";
import { base64Decode, sha256Hex } from "../../worker/lib/bytes";
import { userDataKey } from "../../worker/services/crypto/keys";
import { FIELD_PREFIX, FieldIntegrityError, lookupHash, openField, openWith, sealWith, type FieldRef } from "../../worker/services/crypto/fields";
import { createGeneration } from "../../worker/services/generation";
import { putObject } from "../../worker/services/storage";
import { api, expectProblem, json, services, signIn, tokenFor } from "../helpers";
import { imageBytes, seedAccount } from "../data-rights/fixtures";
import { FakeClerk } from "../clerk-fake";
import { network } from "../network";
import { localSubject } from "../../worker/auth/local-idp";
import { users } from "../../worker/db/schema";
import { deletionSubjectPath } from "../../worker/services/crypto/deletion-subject";
import { deleteAccount } from "../../worker/services/deletion";
import { subjectLookup, subjectOf } from "../../worker/services/users";
import { drivenServices } from "../pipeline/fixtures";

const IP = "198.51.100.77";
const IP_PREFIX = "198.51.100.0/24";
const UA_MARKER = "ua-marker-5h2k";
const UA = `FieldsProbe/4.2 (${UA_MARKER})`;
const KEY_NAME = "Grandma tablet qx81";
const REASON = "ticket 4471 zebra-reason";
const OPTIONS = { gender: "girl", ageGroup: "toddler", resemblance: 0.37, images: 3 } as const;
const EMAIL: Record<string, string> = { alice: "alice@example.test", bob: "bob@example.test" };
const headers = { "cf-connecting-ip": IP, "user-agent": UA };

interface Personal {
  user: string;
  userId: string;
  generationId: string;
  apiKeyId: string;
  exportId: string;
  /** The plain SHA-256 the request hash used to be: a copy of D1 must not hold it. */
  plainRequestHash: string;
}

/**
 * A user with everything personal the API stores: an email (from the
 * session), consent, audit entries with IP prefix and user agent, a
 * generation with options, an API key with a typed name, an export, and a
 * support access with a typed reason.
 */
async function personalAccount(user: string, seed: number): Promise<Personal> {
  const me = await api("/v1/me", { user, headers });
  expect(me.status).toBe(200);
  const userId = await signIn(user);
  await api("/v1/me/consent", { method: "POST", user, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ termsVersion: TERMS_VERSION, peopleConsent: true }) });
  const s = services();
  const photo = async (n: number) => (await putObject(s, { userId, kind: "photo", contentType: "image/jpeg", bytes: imageBytes(seed * 10 + n), width: 300, height: 300 })).id;
  const input = { motherPhotoId: await photo(1), fatherPhotoId: await photo(2), ...OPTIONS };
  const { s: driven } = drivenServices();
  const meta = { requestId: "req_fields", ipPrefix: IP_PREFIX, userAgent: UA };
  const { row } = await createGeneration(driven, { userId, actor: { type: "user", id: userId }, input, idempotencyKey: crypto.randomUUID(), meta });
  expect((await api(`/v1/generations/${row.id}`, { user, headers })).status).toBe(200);
  const key = await api("/v1/api-keys", { method: "POST", user, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ name: KEY_NAME, scopes: ["generations:read"] }) });
  expect(key.status).toBe(201);
  const exp = await api("/v1/account/exports", { method: "POST", user, headers });
  expect(exp.status).toBe(202);
  // The read happens inside a support session (decision 0019). The session's own reason and ticket are operator notes kept in
  // clear (support_sessions, operator_log), like the privacy inbox's notes; the per-read reason below is sealed in the audit log.
  const session = await api("/v1/admin/support-sessions", {
    method: "POST",
    user: "carol",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ userId, reason: "Checking a failed generation", ticket: "T-4411" }),
  });
  expect(session.status).toBe(201);
  const support = await api(`/v1/support/users/${userId}`, { user: "carol", headers: { ...headers, "x-support-reason": REASON } });
  expect(support.status).toBe(200);
  const plainRequestHash = await sha256Hex(JSON.stringify([input.motherPhotoId, input.fatherPhotoId, input.gender, input.ageGroup, input.resemblance, input.images]));
  return { user, userId, generationId: row.id, apiKeyId: (await json<{ id: string }>(key)).id, exportId: (await json<{ id: string }>(exp)).id, plainRequestHash };
}

/** What must never be readable in a copy of D1. */
function personalNeedles(p: Personal): string[] {
  return [EMAIL[p.user] ?? "", "example.test", localSubject(p.user), "198.51.100", UA_MARKER, "FieldsProbe", KEY_NAME, REASON, "zebra", "toddler", '"gender"', "0.37", TERMS_VERSION, "peopleConsent", p.plainRequestHash];
}

type Dump = { table: string; column: string; row: Record<string, unknown> }[];

/** Every column of every row of every table the database has (sqlite_master), as a Time Travel copy or `d1 export` would hold it. */
async function dumpDatabase(): Promise<Dump> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  ).all<{ name: string }>();
  const cells: Dump = [];
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all<Record<string, unknown>>();
    for (const row of rows.results) for (const column of Object.keys(row)) cells.push({ table: name, column, row });
  }
  return cells;
}

function plaintextHits(dump: Dump, needles: readonly string[]): string[] {
  return dump.flatMap(({ table, column, row }) => {
    const value = String(row[column] ?? "");
    return needles.filter((n) => value.includes(n)).map((n) => `${table}.${column} holds ${JSON.stringify(n)}`);
  });
}

/** The sealed cells of one user in a dump, with the cell each is bound to. */
function sealedCells(dump: Dump, userId: string): { ref: FieldRef; stored: string }[] {
  return dump.flatMap(({ table, column, row }) => {
    const stored = row[column];
    if (typeof stored !== "string" || !stored.startsWith(FIELD_PREFIX)) return [];
    const owner = table === "users" ? row["id"] : row["user_id"];
    if (owner !== userId) return [];
    return [{ ref: { table, column, rowId: String(row["id"]), userId }, stored }];
  });
}

const SEALED_COLUMNS = ["api_keys.name", "audit_log.detail", "audit_log.ip_prefix", "audit_log.user_agent", "generations.options", "users.consent_version", "users.email", "users.subject"];

/** Every 32-byte secret the Worker has, imported as an HKDF base key (what someone holding all secrets could try). */
function everySecret(): Promise<CryptoKey[]> {
  const rings = [env.MASTER_KEYS, env.URL_SIGNING_KEYS].map((r) => Object.values((JSON.parse(r ?? "{}") as { keys: Record<string, string> }).keys));
  const raw = [...rings.flat(), env.LOOKUP_HMAC_KEY ?? ""].filter(Boolean).map((b64) => base64Decode(b64));
  return Promise.all(raw.map((k) => crypto.subtle.importKey("raw", k, "HKDF", false, ["deriveKey", "deriveBits"])));
}

describe("D1 personal fields: security", () => {
  it("after shredding, D1 holds nothing personal: a copy taken before deletion has no personal value in clear and none of its sealed cells opens with any secret", async () => {
    const alice = await personalAccount("alice", 1);
    const bob = await personalAccount("bob", 2);

    // While the account is live: every column of every table, nothing personal in clear.
    const live = await dumpDatabase();
    expect(plaintextHits(live, [...personalNeedles(alice), ...personalNeedles(bob)])).toEqual([]);
    const aliceSealed = sealedCells(live, alice.userId);
    expect([...new Set(aliceSealed.map((c) => `${c.ref.table}.${c.ref.column}`))].sort()).toEqual(SEALED_COLUMNS);

    // The "Time Travel copy": the rows as they were just before the deletion.
    const copy = live;
    const del = await api("/v1/account", { method: "DELETE", user: "alice", headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) });
    expect(del.status).toBe(200);
    expect(await userDataKey(services(), alice.userId, { create: false })).toBeNull();
    // Later tests sign in as alice again: a session whose iat (whole seconds) is not after the deletion counts as
    // issued before it and is refused (worker/services/deleted-credentials.ts issuedBeforeDeletion), so let the
    // clock pass the next whole second.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));

    // With every secret the Worker holds, none of alice's captured cells opens.
    const s = services();
    for (const cell of sealedCells(copy, alice.userId)) expect(await openField(s, cell.ref, cell.stored)).toBeNull();
    const secrets = await everySecret();
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const cell of aliceSealed) {
      for (const k of secrets) await expect(openWith(k, cell.ref, cell.stored)).rejects.toBeInstanceOf(FieldIntegrityError);
    }
    // The same copy still opens for bob, who was not deleted: the cells are real ciphertexts of his values.
    const bobOpened = await Promise.all(sealedCells(copy, bob.userId).map((c) => openField(s, c.ref, c.stored)));
    expect(bobOpened).not.toContain(null);
    expect(bobOpened).toEqual(expect.arrayContaining([EMAIL["bob"], localSubject("bob"), IP_PREFIX, UA, KEY_NAME, TERMS_VERSION]));
    expect(bobOpened.some((v) => v?.includes(REASON))).toBe(true);

    // And what D1 holds now says nothing personal about alice. The outbox is left out: it is the local
    // development stand-in for a mail provider (none configured here), holding the deletion confirmation
    // until its 24 h purge; what it may keep is issue 14 item 5's concern, not a sealed field.
    const after = (await dumpDatabase()).filter((c) => c.table !== "outbox");
    expect(plaintextHits(after, personalNeedles(alice))).toEqual([]);
  });

  it("the identity provider subject is never in D1 in clear: not live, not on the tombstone at any stage of a deletion, not after; Clerk still gets it", async () => {
    const a = await seedAccount("subject-probe", 41);
    const subject = localSubject("subject-probe");
    const lookup = await subjectLookup(services().config, subject);
    // The users row holds a keyed lookup, not the subject nor a plain hash of it.
    const row = await services().db.select().from(users).where(eq(users.id, a.userId)).get();
    expect(row?.externalId).toBe(lookup);
    expect(row?.externalId).not.toBe(await sha256Hex(subject));
    expect(row?.subject?.startsWith(FIELD_PREFIX)).toBe(true);
    expect(plaintextHits(await dumpDatabase(), [subject])).toEqual([]);

    const clerkDeletes: string[] = [];
    new FakeClerk().add({ id: subject, emails: ["subject-probe@example.test"] }).use();
    network.use(
      http.delete("https://api.clerk.com/v1/users/:id", ({ params }) => {
        clerkDeletes.push(String(params["id"]));
        return HttpResponse.json({ id: params["id"], object: "user", deleted: true });
      }),
    );
    const base = services();
    const s = services({ config: { ...base.config, CLERK_SECRET_KEY: "sk_test_subject_probe" } });
    // Every state D1 passes through during the deletion is a state Time Travel keeps.
    const snapshots: { stage: string; hits: string[]; held: boolean }[] = [];
    const res = await deleteAccount(s, a.userId, {
      source: "user",
      afterStage: async (stage) => {
        snapshots.push({ stage, hits: plaintextHits(await dumpDatabase(), [subject, await sha256Hex(subject)]), held: (await env.KEYS.get(deletionSubjectPath(a.userId))) !== null });
      },
    });
    expect(res?.status).toBe("deleted");
    expect(snapshots.map((x) => x.stage)).toEqual(["started", "key_shredded", "api_keys_revoked", "mailed", "objects_deleted", "rows_deleted", "identity_deleted"]);
    expect(snapshots.flatMap((x) => x.hits)).toEqual([]);
    // The subject is held, wrapped, in the key bucket (never backed up) while the deletion runs, and is gone after it.
    expect(snapshots.every((x) => x.held)).toBe(true);
    const heldFile = await env.KEYS.get(deletionSubjectPath(a.userId));
    expect(heldFile).toBeNull();
    expect(clerkDeletes).toEqual([subject]);
    expect(plaintextHits(await dumpDatabase(), [subject, lookup, a.userId])).toEqual([]);
    // The deleted subject is still remembered (old sessions refused), by a keyed hash only.
    const before = await tokenFor("subject-probe", { nowSeconds: Math.floor(Date.now() / 1000) - 30 });
    await expectProblem(await api("/v1/me", { token: before }), 401, "account_deleted");
  });

  it("a ciphertext moved to another row, column or user does not open", async () => {
    const alice = await personalAccount("alice", 3);
    const s = services();
    const dek = await userDataKey(s, alice.userId, { create: false });
    if (!dek) throw new Error("alice has no DEK");
    const ref: FieldRef = { table: "users", column: "email", rowId: alice.userId, userId: alice.userId };
    const sealed = await sealWith(dek, ref, "alice@example.test");
    expect(await openWith(dek, ref, sealed)).toBe("alice@example.test");
    for (const moved of [{ ...ref, rowId: "usr_other" }, { ...ref, column: "consent_version" }, { ...ref, table: "api_keys" }, { ...ref, userId: "usr_other" }]) {
      await expect(openWith(dek, moved, sealed)).rejects.toBeInstanceOf(FieldIntegrityError);
    }
    const flipped = sealed.slice(0, -2) + (sealed.endsWith("A") ? "B" : "A") + sealed.slice(-1);
    await expect(openWith(dek, ref, flipped)).rejects.toBeInstanceOf(FieldIntegrityError);

    // Through the API: bob's sealed email copied into alice's row is not shown to alice (nor is bob's address).
    const bob = await personalAccount("bob", 4);
    const emailOf = (id: string) => env.DB.prepare("SELECT email FROM users WHERE id = ?").bind(id).first<{ email: string }>();
    const bobEmail = await emailOf(bob.userId);
    const aliceEmail = await emailOf(alice.userId);
    expect(bobEmail?.email.startsWith(FIELD_PREFIX)).toBe(true);
    await env.DB.prepare("UPDATE users SET email = ? WHERE id = ?").bind(bobEmail?.email ?? "", alice.userId).run();
    const me = await json<{ email: string | null }>(await api("/v1/me", { user: "alice" }));
    expect(me.email).toBeNull();
    await env.DB.prepare("UPDATE users SET email = ? WHERE id = ?").bind(aliceEmail?.email ?? "", alice.userId).run();
    expect((await json<{ email: string | null }>(await api("/v1/me", { user: "alice" }))).email).toBe(EMAIL["alice"]);
    // An audit entry's user agent moved to another of alice's entries does not open either.
    const rows = await env.DB.prepare("SELECT id, user_agent FROM audit_log WHERE user_id = ? AND user_agent IS NOT NULL ORDER BY seq").bind(alice.userId).all<{ id: string; user_agent: string }>();
    const [a, b] = rows.results;
    if (!a || !b) throw new Error("expected two audit entries with a user agent");
    expect(await openField(s, { table: "audit_log", column: "user_agent", rowId: a.id, userId: alice.userId }, a.user_agent)).toBe(UA);
    expect(await openField(s, { table: "audit_log", column: "user_agent", rowId: b.id, userId: alice.userId }, a.user_agent)).toBeNull();
  });

  it("lookups use a keyed hash: equal values match, the hash is not a plain SHA-256, and another key gives another hash", async () => {
    const s = services();
    const h = await lookupHash(s.config, "generation-request", "same input");
    expect(h).toMatch(/^h1\.[0-9a-f]{64}$/);
    expect(await lookupHash(s.config, "generation-request", "same input")).toBe(h);
    expect(await lookupHash(s.config, "generation-request", "other input")).not.toBe(h);
    expect(await lookupHash(s.config, "other-purpose", "same input")).not.toBe(h);
    expect(h.slice(3)).not.toBe(await sha256Hex("same input"));
    const otherKey = { ...s.config, LOOKUP_HMAC_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) };
    expect(await lookupHash(otherKey, "generation-request", "same input")).not.toBe(h);
  });
});

describe("D1 personal fields: happy", () => {
  it("the owner still reads every value: me, audit log, generations, API keys and the export archive", async () => {
    const alice = await personalAccount("alice", 5);
    const me = await json<{ email: string | null; consent: { version: string } | null }>(await api("/v1/me", { user: "alice" }));
    expect(me.email).toBe(EMAIL["alice"]);
    expect(me.consent?.version).toBe(TERMS_VERSION);

    type Entry = { action: string; ipPrefix: string | null; userAgent: string | null; actor: { reason: string | null }; detail: Record<string, unknown> | null };
    const audit = await json<{ items: Entry[] }>(await api("/v1/account/audit?limit=100", { user: "alice" }));
    const created = audit.items.find((e) => e.action === "account.created");
    expect(created).toMatchObject({ ipPrefix: IP_PREFIX, userAgent: UA });
    expect(audit.items.find((e) => e.action === "support.accessed")?.actor.reason).toBe(REASON);
    expect(audit.items.find((e) => e.action === "consent.given")?.detail).toMatchObject({ termsVersion: TERMS_VERSION, peopleConsent: true });
    expect(audit.items.find((e) => e.action === "api_key.created")?.detail).toMatchObject({ name: KEY_NAME });

    const gen = await json<{ options: unknown }>(await api(`/v1/generations/${alice.generationId}`, { user: "alice" }));
    expect(gen.options).toEqual(OPTIONS);
    const list = await json<{ items: { id: string; options: unknown }[] }>(await api("/v1/generations", { user: "alice" }));
    expect(list.items.find((g) => g.id === alice.generationId)?.options).toEqual(OPTIONS);

    const keys = await json<{ keys: { id: string; name: string }[] }>(await api("/v1/api-keys", { user: "alice" }));
    expect(keys.keys.find((k) => k.id === alice.apiKeyId)?.name).toBe(KEY_NAME);

    const zip = await exportZip("alice", alice.exportId);
    const text = (path: string) => new TextDecoder().decode(zip[path] ?? new Uint8Array());
    const account = JSON.parse(text("account.json")) as { email: string; consent: { termsVersion: string }; apiKeys: { name: string }[] };
    expect(account.email).toBe(EMAIL["alice"]);
    expect(account.consent.termsVersion).toBe(TERMS_VERSION);
    expect(account.apiKeys.map((k) => k.name)).toContain(KEY_NAME);
    expect(JSON.parse(text(`generations/${alice.generationId}/metadata.json`))).toMatchObject({ options: OPTIONS });
    const auditFile = text("audit-log.json");
    expect(auditFile).toContain(UA);
    expect(auditFile).toContain(IP_PREFIX);
  });

  it("rows written before encryption still read, and the legacy sweep seals them in place", async () => {
    const userId = await signIn("alice");
    const s = services();
    // A row from before decision 0022: the plain subject in external_id, no sealed subject.
    await env.DB.prepare("UPDATE users SET email = ?, consent_version = ?, external_id = ?, subject = NULL WHERE id = ?").bind("legacy@example.test", TERMS_VERSION, localSubject("alice"), userId).run();
    expect(await signIn("alice")).toBe(userId);
    await env.DB.prepare(
      "INSERT INTO api_keys (id, user_id, name, prefix, hash, scopes, created_at) VALUES ('key_00000000000000000000000000000001', ?, 'old key name', 'bp_x', 'h-legacy', '[\"photos:read\"]', ?)",
    ).bind(userId, Date.now()).run();
    expect((await json<{ email: string }>(await api("/v1/me", { user: "alice" }))).email).toBe("legacy@example.test");
    expect((await json<{ keys: { name: string }[] }>(await api("/v1/api-keys", { user: "alice" }))).keys.map((k) => k.name)).toContain("old key name");

    const { sealLegacyFields } = await import("../../worker/services/field-migration");
    expect((await sealLegacyFields(s)).sealed).toBeGreaterThanOrEqual(4);
    expect(plaintextHits(await dumpDatabase(), ["legacy@example.test", "old key name", TERMS_VERSION, localSubject("alice")])).toEqual([]);
    const converted = await s.db.select().from(users).where(eq(users.id, userId)).get();
    expect(converted?.externalId).toBe(await subjectLookup(s.config, localSubject("alice")));
    expect(converted ? await subjectOf(s, converted) : null).toBe(localSubject("alice"));
    expect(await signIn("alice")).toBe(userId);
    const me = await json<{ email: string; consent: { version: string } }>(await api("/v1/me", { user: "alice" }));
    expect(me).toMatchObject({ email: "legacy@example.test", consent: { version: TERMS_VERSION } });
    expect((await json<{ keys: { name: string }[] }>(await api("/v1/api-keys", { user: "alice" }))).keys.map((k) => k.name)).toContain("old key name");
    expect((await sealLegacyFields(s)).sealed).toBe(0);
  });
});

/** Waits (no timing assertion) for the queue consumer to build the export, then downloads and unzips it. */
async function exportZip(user: string, id: string): Promise<Record<string, Uint8Array>> {
  for (let i = 0; i < 300; i++) {
    const view = await json<{ status: string; download: { url: string } | null }>(await api(`/v1/account/exports/${id}`, { user }));
    if (view.status === "ready" && view.download) {
      const url = new URL(view.download.url);
      const res = await api(url.pathname + url.search, {});
      expect(res.status).toBe(200);
      return unzipSync(new Uint8Array(await res.arrayBuffer()));
    }
    if (view.status === "failed") throw new Error("export failed");
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`export ${id} never finished`);
}
