/**
 * Anchored checkpoints (docs/audit-log.md): BabyPic signs a user's chain head
 * with Ed25519; the keys are public at /v1/audit/keys; the user's checkpoints
 * at /v1/account/audit/checkpoints. The shared verifier (worker/lib/audit-verify.ts,
 * the one the Activity page and the CLI run) catches every tampering case of
 * test/audit-tamper.ts and names the first broken seq.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditCheckpoints } from "../../worker/db/schema";
import { ConfigSchema } from "../../worker/env";
import { checkCheckpointSignature, fromApiEntry, verifyAuditLog, type ApiAuditEntry, type AuditPublicKey, type ChainEntry, type Checkpoint } from "../../worker/lib/audit-verify";
import { runSweeps } from "../../worker/scheduled";
import { appendAudit } from "../../worker/services/audit";
import { deleteAccount } from "../../worker/services/deletion";
import { CHECKPOINT_SWEEP_BATCH, makeCheckpoint, signCheckpoint, sweepCheckpoints } from "../../worker/services/audit-checkpoints";
import { api, expectProblem, json, services, signIn } from "../helpers";
import { rehashFrom, tamperCases, type Signer } from "../audit-tamper";
import { auditRows } from "./fixtures";

const HOUR = 3_600_000;

interface Ring {
  current: string;
  keys: Record<string, { kty: string; crv: string; x: string; d?: string; retiredAt?: string }>;
}
const ring = JSON.parse(env.AUDIT_SIGNING_KEYS ?? "{}") as Ring;

async function signer(kid: string): Promise<Signer> {
  const k = ring.keys[kid];
  if (!k?.d) throw new Error(`test ring has no private key ${kid}`);
  return { kid, key: await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: k.x, d: k.d }, { name: "Ed25519" }, false, ["sign"]) };
}

async function keysOverHttp(): Promise<AuditPublicKey[]> {
  const res = await api("/v1/audit/keys");
  expect(res.status).toBe(200);
  return (await json<{ keys: AuditPublicKey[] }>(res)).keys;
}

/** Every entry over the API (newest first, paged), returned oldest first: what the Activity page does. */
async function entriesOverHttp(user: string): Promise<ChainEntry[]> {
  const all: ApiAuditEntry[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(`/v1/account/audit?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { user });
    expect(res.status).toBe(200);
    const page = await json<{ items: ApiAuditEntry[]; nextCursor: string | null }>(res);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all.reverse().map(fromApiEntry);
}

async function checkpointsOverHttp(user: string, limit = 100): Promise<Checkpoint[]> {
  const all: Checkpoint[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(`/v1/account/audit/checkpoints?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { user });
    expect(res.status).toBe(200);
    const page = await json<{ items: Checkpoint[]; nextCursor: string | null }>(res);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** `n` entries for a fresh user, written an hour ago onwards, one per minute. */
async function seedLog(user: string, n: number): Promise<string> {
  const userId = await signIn(user);
  const start = Date.now() - HOUR;
  for (let i = 0; i < n; i++) {
    await appendAudit(services().db, { userId, actor: { type: "user", id: userId }, action: "photo.viewed", target: { type: "photo", id: `pho_${i}` }, detail: { i } }, start + i * 60_000);
  }
  return userId;
}

describe("audit keys (happy)", () => {
  it("publishes every ring key as an Ed25519 JWK with its status, retired keys with retiredAt, no private part", async () => {
    const keys = await keysOverHttp();
    expect(keys.map((k) => k.kid).sort()).toEqual(Object.keys(ring.keys).sort());
    for (const k of keys) {
      expect(k).toMatchObject({ kty: "OKP", crv: "Ed25519", x: ring.keys[k.kid]?.x });
      expect(k).not.toHaveProperty("d");
      expect(k.status).toBe(k.kid === ring.current ? "current" : "retired");
      if (k.status === "retired") expect(Date.parse(k.retiredAt ?? "")).toBeLessThan(Date.now());
    }
    const doc = await json<{ paths: Record<string, Record<string, { operationId?: string }>> }>(await api("/v1/openapi.json"));
    expect(doc.paths["/v1/audit/keys"]?.["get"]?.operationId).toBe("getAuditKeys");
    expect(doc.paths["/v1/account/audit/checkpoints"]?.["get"]?.operationId).toBe("listAuditCheckpoints");
  });
});

describe("checkpoints (happy)", () => {
  it("a checkpoint signs the current head; the API lists them newest first with keyset paging; the log and all checkpoints verify", async () => {
    const userId = await seedLog("cp-alice", 3);
    const s = services();
    const n = (await auditRows(userId)).length;
    const first = await makeCheckpoint(s, userId, "daily");
    await appendAudit(s.db, { userId, actor: { type: "user", id: userId }, action: "photo.viewed" }, Date.now() - 1000);
    const second = await makeCheckpoint(services({ now: () => Date.now() + 1000 }), userId, "export");
    expect(first?.seq).toBe(n);
    expect(second?.seq).toBe(n + 1);
    const rows = await auditRows(userId);
    expect(second?.head).toBe(rows[rows.length - 1]?.hash);

    // Paged one per page: newest first, nothing repeated or skipped.
    const listed = await checkpointsOverHttp("cp-alice", 1);
    expect(listed.map((c) => c.seq)).toEqual([n + 1, n]);
    expect(listed[0]).toEqual(second);

    const result = await verifyAuditLog({ userId, entries: await entriesOverHttp("cp-alice"), checkpoints: listed, keys: await keysOverHttp() });
    // Reading the log appended audit.viewed entries after the newest checkpoint: intact, not all anchored.
    expect(result).toMatchObject({ ok: true, checkpoints: 2, anchoredSeq: n + 1 });
  });

  it("makes no new checkpoint when the newest already covers the head", async () => {
    const userId = await seedLog("cp-idem", 2);
    const a = await makeCheckpoint(services(), userId, "daily");
    const b = await makeCheckpoint(services(), userId, "daily");
    expect(b).toEqual(a);
    expect(await services().db.select().from(auditCheckpoints).where(eq(auditCheckpoints.userId, userId)).all()).toHaveLength(1);
  });
});

describe("checkpoints: the cron sweep", () => {
  it("checkpoints a changed log, not again within a day, again a day later once the log grew", async () => {
    const userId = await seedLog("cp-cron", 2);
    const count = async () => (await services().db.select().from(auditCheckpoints).where(eq(auditCheckpoints.userId, userId)).all()).length;
    expect((await runSweeps(services())).find((r) => r.name === "audit.checkpoints")?.ok).toBe(true);
    expect(await count()).toBe(1);
    await appendAudit(services().db, { userId, actor: { type: "user", id: userId }, action: "photo.viewed" }, Date.now());
    await sweepCheckpoints(services({ now: () => Date.now() + HOUR }));
    expect(await count()).toBe(1);
    await sweepCheckpoints(services({ now: () => Date.now() + 25 * HOUR }));
    expect(await count()).toBe(2);
    // Unchanged since: a later day adds nothing.
    await sweepCheckpoints(services({ now: () => Date.now() + 50 * HOUR }));
    expect(await count()).toBe(2);
  });

  it("handles at most CHECKPOINT_SWEEP_BATCH users per run", async () => {
    const s = services({ now: () => Date.now() + 1000 * HOUR });
    // Every user of this file's database is due by now; the batch bound caps the run.
    for (let i = 0; i < CHECKPOINT_SWEEP_BATCH + 2; i++) {
      await appendAudit(s.db, { userId: `usr_${i.toString(16).padStart(32, "c")}`, actor: { type: "system", id: null }, action: "photo.viewed" }, Date.now());
    }
    expect(await sweepCheckpoints(s)).toBe(CHECKPOINT_SWEEP_BATCH);
    expect(await sweepCheckpoints(s)).toBeGreaterThan(0);
  });
});

describe("checkpoints: errors", () => {
  it("the list needs a session or an account:read key, and refuses a foreign cursor", async () => {
    await expectProblem(await api("/v1/account/audit/checkpoints"), 401, "unauthorized");
    await signIn("cp-cursor");
    await expectProblem(await api("/v1/account/audit/checkpoints?cursor=bm9wZQ", { user: "cp-cursor" }), 400, "validation_failed");
  });

  it("a user sees only their own checkpoints", async () => {
    const a = await seedLog("cp-own-a", 1);
    await seedLog("cp-own-b", 1);
    await makeCheckpoint(services(), a, "daily");
    expect(await checkpointsOverHttp("cp-own-b")).toEqual([]);
    expect((await checkpointsOverHttp("cp-own-a")).every((c) => c.userId === a)).toBe(true);
  });
});

describe("verifier: security (every tampering is caught at its first broken seq)", () => {
  let users = 0;
  async function intact() {
    const userId = await seedLog(`cp-tamper-${++users}`, 9);
    const rows = await auditRows(userId);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    const s = services();
    const checkpoints: Checkpoint[] = [];
    for (const seq of [4, rows.length]) {
      const row = rows[seq - 1];
      if (!row) throw new Error("seed");
      checkpoints.push(await signCheckpoint(s.config.AUDIT_SIGNING_KEYS, { userId, seq, head: row.hash, at: Date.now() }));
    }
    const entries: ChainEntry[] = rows.map((r) => ({ ...r }));
    return { userId, entries, checkpoints, keys: await keysOverHttp() };
  }

  it("the intact log verifies, fully anchored; each tampering case fails at its first broken seq with its reason", async () => {
    const log = await intact();
    const n = log.entries.length;
    expect(await verifyAuditLog(log)).toMatchObject({ ok: true, entries: n, anchoredSeq: n });
    const retiredKid = Object.keys(ring.keys).find((k) => k !== ring.current) ?? "";
    const foreign = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const cases = await tamperCases(log, { current: await signer(ring.current), retired: await signer(retiredKid), foreign: foreign.privateKey });
    expect(cases.length).toBeGreaterThanOrEqual(12);
    const got = [];
    for (const c of cases) {
      const r = await verifyAuditLog({ userId: log.userId, entries: c.entries, checkpoints: c.checkpoints, keys: log.keys });
      got.push({ name: c.name, seq: r.ok ? null : r.seq, reason: r.ok ? "ok" : r.reason });
    }
    expect(got).toEqual(cases.map((c) => ({ name: c.name, ...c.expect })));
  });

  it("a checkpoint of another user does not vouch for this log", async () => {
    const log = await intact();
    const head = log.checkpoints[1];
    if (!head) throw new Error("seed");
    const foreignUser = await signCheckpoint(services().config.AUDIT_SIGNING_KEYS, { userId: `usr_${"e".repeat(32)}`, seq: head.seq, head: head.head, at: Date.now() });
    expect(await verifyAuditLog({ ...log, checkpoints: [foreignUser] })).toMatchObject({ ok: false, reason: "checkpoint-wrong-user", seq: head.seq });
  });
});

describe("deletion carries the final checkpoint", () => {
  it("deleteAccount signs the head after its account.deleted entry; the log as it stood verifies against it", async () => {
    const userId = await seedLog("cp-delete", 2);
    let held: ChainEntry[] = [];
    const result = await deleteAccount(services(), userId, {
      source: "user",
      afterStage: async (stage) => {
        if (stage === "started") held = await auditRows(userId);
      },
    });
    const cp = result?.finalCheckpoint;
    expect(held.at(-1)?.action).toBe("account.deleted");
    expect(cp?.seq).toBe(held.length);
    expect(await verifyAuditLog({ userId, entries: held, checkpoints: cp ? [cp] : [], keys: await keysOverHttp() })).toMatchObject({ ok: true, anchoredSeq: held.length });
    // Nothing of the log or its checkpoints stays in D1.
    expect(await auditRows(userId)).toEqual([]);
    expect(await services().db.select().from(auditCheckpoints).where(eq(auditCheckpoints.userId, userId)).all()).toEqual([]);
  });

  it("DELETE /v1/account answers with finalCheckpoint (without the user id, which it signs), signed by the current key", async () => {
    const userId = await seedLog("cp-delete-http", 2);
    const res = await api("/v1/account", { method: "DELETE", user: "cp-delete-http", headers: { "content-type": "application/json" }, body: JSON.stringify({ confirm: "DELETE" }) });
    expect(res.status).toBe(200);
    const body = await json<{ finalCheckpoint: Omit<Checkpoint, "userId"> | null }>(res);
    // Anonymous like the receipt: the user id is signed but not sent back.
    expect(JSON.stringify(body)).not.toContain(userId);
    const cp = body.finalCheckpoint;
    expect(cp).toMatchObject({ keyId: ring.current });
    if (!cp) throw new Error("no checkpoint");
    expect(await checkCheckpointSignature({ ...cp, userId }, await keysOverHttp())).toBe("ok");
    expect(await checkCheckpointSignature({ ...cp, userId: `usr_${"0".repeat(32)}` }, await keysOverHttp())).toBe("bad-signature");
  });
});

describe("checkpoints: security", () => {
  it("no D1 table holds any private part of the signing ring (a D1 writer cannot sign)", async () => {
    const userId = await seedLog("cp-no-key", 2);
    await makeCheckpoint(services(), userId, "daily");
    const secrets = Object.values(ring.keys).flatMap((k) => (k.d ? [k.d] : []));
    expect(secrets.length).toBeGreaterThan(0);
    const tables = (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>()).results;
    let cells = 0;
    for (const { name } of tables) {
      const rows = (await env.DB.prepare(`SELECT * FROM "${name}"`).all<Record<string, unknown>>()).results;
      for (const row of rows) {
        for (const v of Object.values(row)) {
          cells++;
          if (typeof v === "string") for (const d of secrets) expect(v, `${name} holds a signing key`).not.toContain(d);
        }
      }
    }
    expect(cells).toBeGreaterThan(0);
  });
});

describe("checkpoints: the key ring is checked at startup (error)", () => {
  it("refuses a ring whose current key lacks d, or whose other key lacks retiredAt; accepts the test ring", () => {
    const cur = ring.keys[ring.current];
    const oldKid = Object.keys(ring.keys).find((k) => k !== ring.current) ?? "";
    const old = ring.keys[oldKid];
    if (!cur || !old) throw new Error("test ring");
    const parse = (value: unknown) => ConfigSchema.safeParse({ ...env, AUDIT_SIGNING_KEYS: JSON.stringify(value) });
    expect(parse(ring).success).toBe(true);
    expect(parse({ current: ring.current, keys: { [ring.current]: { kty: "OKP", crv: "Ed25519", x: cur.x } } }).success).toBe(false);
    expect(parse({ current: ring.current, keys: { [ring.current]: cur, [oldKid]: { kty: "OKP", crv: "Ed25519", x: old.x } } }).success).toBe(false);
    expect(parse({ current: "missing", keys: { [ring.current]: cur } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ ...env, AUDIT_SIGNING_KEYS: undefined }).success).toBe(false);
  });
});

describe("verifier: sealed personal fields (security)", () => {
  it("hashes the stored (sealed) forms the API returns next to the readable ones; an edited stored form, or a readable value that differs from its plain-text stored form, is a hash-mismatch", async () => {
    const userId = await seedLog("cp-sealed", 3);
    const entries = await entriesOverHttp("cp-sealed");
    const keys = await keysOverHttp();
    expect(await verifyAuditLog({ userId, entries, checkpoints: [], keys })).toMatchObject({ ok: true, entries: entries.length });
    const third = entries.find((e) => e.action === "photo.viewed" && e.targetId === "pho_1");
    if (!third?.stored) throw new Error("the API sends no stored forms");
    // The readable detail is the decryption of the sealed stored one.
    expect(third.detail).toEqual({ i: 1 });
    expect(third.stored.detail).toMatch(/^bpf1\./);
    const withEntry = (e: ChainEntry) => entries.map((x) => (x.seq === e.seq ? e : x));
    const editedStored = { ...third, stored: { ...third.stored, detail: `${third.stored.detail}A` } };
    expect(await verifyAuditLog({ userId, entries: withEntry(editedStored), checkpoints: [], keys })).toMatchObject({ ok: false, seq: third.seq, reason: "hash-mismatch" });
    // An entry from before sealing: its plain-text stored form is hashed, and the readable value must equal it.
    const legacy = await rehashFrom(userId, withEntry({ ...third, stored: { ...third.stored, detail: JSON.stringify({ i: 1 }) } }), third.seq - 1);
    expect(await verifyAuditLog({ userId, entries: legacy, checkpoints: [], keys })).toMatchObject({ ok: true });
    const editedReadable = legacy.map((x) => (x.seq === third.seq ? { ...x, detail: { i: 99 } } : x));
    expect(await verifyAuditLog({ userId, entries: editedReadable, checkpoints: [], keys })).toMatchObject({ ok: false, seq: third.seq, reason: "hash-mismatch" });
  });
});
