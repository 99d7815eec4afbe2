/**
 * `npm run audit:verify -- --export <zip>` against crafted export archives:
 * the intact one passes (exit 0); every tampering case of test/audit-tamper.ts
 * fails (exit 1) naming the first broken seq and the reason, exactly as the
 * shared verifier does in the browser and in workerd.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryHashText, GENESIS_HASH, type AuditPublicKey, type ChainEntry, type Checkpoint } from "../../worker/lib/audit-verify";
import { signWith, tamperCases, type IntactLog, type Signer, type TamperCase } from "../audit-tamper";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), "audit-verify-export-"));
const userId = `usr_${"d".repeat(32)}`;
const T0 = Date.parse("2026-11-01T00:00:00.000Z");

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function keyPair(): Promise<{ key: CryptoKey; x: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return { key: pair.privateKey, x: String(jwk.x) };
}

/** Entries as the export writes them: the row with `at` in ISO 8601 and `detail` parsed. */
async function exportEntries(n: number): Promise<ChainEntry[]> {
  const out: ChainEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e: ChainEntry & { id: string; userId: string } = {
      id: `aud_${seq}`,
      userId,
      seq,
      at: new Date(T0 + seq * 60_000).toISOString(),
      actorType: seq % 3 === 0 ? "system" : "user",
      actorId: seq % 3 === 0 ? "export" : userId,
      action: "photo.viewed",
      targetType: "photo",
      targetId: `pho_${seq}`,
      requestId: `req_${seq}`,
      ipPrefix: "203.0.113.0/24",
      userAgent: "Mozilla/5.0",
      detail: { seq, reason: "test" },
      prevHash: prev,
      hash: "",
    };
    e.hash = await sha256Hex(entryHashText(userId, e));
    prev = e.hash;
    out.push(e);
  }
  return out;
}

function writeExport(name: string, entries: ChainEntry[], checkpoints: Checkpoint[], keys: AuditPublicKey[]): string {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.zip`);
  writeFileSync(
    file,
    zipSync({
      "manifest.json": enc({ format: "babypic-export", userId }),
      "audit-log.json": enc({ verification: "see docs/audit-log.md", entries }),
      "checkpoints.json": enc({ keys, checkpoints }),
    }),
  );
  return file;
}

function verify(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "scripts", "audit-verify.mjs"), ...args], { cwd: ROOT, encoding: "utf8" });
}

let log: IntactLog;
let cases: TamperCase[];
let current: Signer;

beforeAll(async () => {
  const cur = await keyPair();
  const old = await keyPair();
  const foreign = await keyPair();
  current = { kid: "audit-2", key: cur.key };
  const keys: AuditPublicKey[] = [
    { kty: "OKP", crv: "Ed25519", x: cur.x, kid: "audit-2", status: "current", retiredAt: null },
    { kty: "OKP", crv: "Ed25519", x: old.x, kid: "audit-1", status: "retired", retiredAt: new Date(T0 - 1000).toISOString() },
  ];
  const entries = await exportEntries(12);
  const checkpoints: Checkpoint[] = [];
  for (const seq of [4, 12]) {
    const e = entries[seq - 1];
    if (!e) throw new Error("seed");
    checkpoints.push(await signWith(current, { userId, seq, head: e.hash, time: new Date(T0 + seq * 60_000 + 5000).toISOString() }));
  }
  log = { userId, entries, checkpoints, keys };
  cases = await tamperCases(log, { current, retired: { kid: "audit-1", key: old.key }, foreign: foreign.key });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("audit:verify --export", () => {
  it("an intact export: exit 0, fully anchored", () => {
    const res = verify("--export", writeExport("intact", log.entries, log.checkpoints, log.keys));
    expect(res.stdout).toContain(`ok      ${userId}  12 entries, 2 checkpoints (signed up to seq 12)`);
    expect(res.status).toBe(0);
  });

  it("every tampering case: exit 1 naming the first broken seq and the reason", () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
    const got = cases.map((c) => {
      const res = verify("--export", writeExport(c.name, c.entries, c.checkpoints, log.keys));
      return { name: c.name, status: res.status, line: /BROKEN {2}\S+ {2}at seq (\d+): (\S+)/.exec(res.stdout)?.slice(1) ?? res.stdout + res.stderr };
    });
    expect(got).toEqual(cases.map((c) => ({ name: c.name, status: 1, line: [String(c.expect.seq), c.expect.reason] })));
  }, 180_000);

  it("an export whose key list was swapped for the forger's passes on its own, and fails against the published keys (--keys)", async () => {
    const forger = await keyPair();
    const forgedKeys: AuditPublicKey[] = [{ kty: "OKP", crv: "Ed25519", x: forger.x, kid: "audit-2", status: "current", retiredAt: null }];
    const last = log.entries[log.entries.length - 1];
    if (!last) throw new Error("seed");
    const forgedCp = await signWith({ kid: "audit-2", key: forger.key }, { userId, seq: last.seq, head: last.hash, time: new Date(T0 + 3_600_000).toISOString() });
    const file = writeExport("forged-keys", log.entries, [forgedCp], forgedKeys);
    expect(verify("--export", file).status).toBe(0);
    const published = join(dir, "published-keys.json");
    writeFileSync(published, JSON.stringify({ keys: log.keys }));
    const res = verify("--export", file, "--keys", published);
    expect(res.stdout).toContain(`at seq 12: bad-signature`);
    expect(res.status).toBe(1);
  });

  it("bad input: exit 2 with a message, never a stack", () => {
    const notZip = join(dir, "not.zip");
    writeFileSync(notZip, "hello");
    const res = verify("--export", notZip);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("cannot read");
    expect(verify("--export").status).toBe(2);
    expect(verify("--export", notZip, "--all").status).toBe(2);
  });
});
