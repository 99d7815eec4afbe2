/**
 * `npm run audit:verify` against a real local D1 (a throwaway --persist-to
 * directory): a good chain passes, an edited or deleted row fails the run,
 * naming the first broken seq (for a deleted row: the missing one).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryHashInput, GENESIS_HASH, type AuditRow } from "../../worker/services/audit";
import { sha256Hex } from "../../worker/lib/bytes";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const dir = mkdtempSync(join(tmpdir(), "audit-verify-"));
const alice = `usr_${"a".repeat(32)}`;
const bob = `usr_${"b".repeat(32)}`;

function run(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
}

function sqlExec(sql: string): void {
  const res = run([WRANGLER, "d1", "execute", "DB", "--local", "--persist-to", dir, "--command", sql]);
  if (res.status !== 0) throw new Error(res.stderr || res.stdout);
}

function verify(...args: string[]) {
  return run([join(ROOT, "scripts", "audit-verify.mjs"), ...args, "--persist-to", dir]);
}

const q = (v: string | number | null) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replaceAll("'", "''")}'`);

async function chain(userId: string, n: number): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const base = {
      userId,
      seq,
      at: 1_700_000_000_000 + seq,
      actorType: "user" as const,
      actorId: userId,
      action: "photo.viewed",
      targetType: "photo",
      targetId: `pho_${seq}`,
      requestId: `req_${seq}`,
      ipPrefix: "203.0.113.0/24",
      userAgent: "test",
      detail: JSON.stringify({ seq }),
      prevHash: prev,
    };
    const hash = await sha256Hex(entryHashInput(base));
    rows.push({ id: `aud_${userId.slice(4, 8)}${seq}`, ...base, hash });
    prev = hash;
  }
  return rows;
}

function insertSql(rows: AuditRow[]): string {
  return rows
    .map(
      (r) =>
        `INSERT INTO audit_log (id, user_id, seq, at, actor_type, actor_id, action, target_type, target_id, request_id, ip_prefix, user_agent, detail, prev_hash, hash) VALUES (${[
          r.id,
          r.userId,
          r.seq,
          r.at,
          r.actorType,
          r.actorId,
          r.action,
          r.targetType,
          r.targetId,
          r.requestId,
          r.ipPrefix,
          r.userAgent,
          r.detail,
          r.prevHash,
          r.hash,
        ]
          .map(q)
          .join(", ")});`,
    )
    .join(" ");
}

beforeAll(async () => {
  const res = run([WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", dir]);
  if (res.status !== 0) throw new Error(res.stderr || res.stdout);
  sqlExec(insertSql([...(await chain(alice, 4)), ...(await chain(bob, 3))]));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("audit:verify", () => {
  it("intact chains: exit 0, one line per user", () => {
    const res = verify("--all");
    expect(res.stdout).toContain(`ok      ${alice}  4 entries`);
    expect(res.stdout).toContain(`ok      ${bob}  3 entries`);
    expect(res.status).toBe(0);
  });

  it("bad arguments: exit 2 without querying", () => {
    expect(verify("alice'; DROP TABLE audit_log; --").status).toBe(2);
    expect(verify().status).toBe(2);
  });

  it("an edited row: exit 1 naming the user and seq; other users still ok", () => {
    sqlExec(`UPDATE audit_log SET action = 'photo.listed' WHERE user_id = '${alice}' AND seq = 2`);
    const res = verify("--all");
    expect(res.stdout).toContain(`BROKEN  ${alice}  at seq 2: hash-mismatch`);
    expect(res.stdout).toContain(`ok      ${bob}`);
    expect(res.status).toBe(1);
    expect(verify(bob).status).toBe(0);
  });

  it("a deleted row: exit 1 with a gap", () => {
    sqlExec(`DELETE FROM audit_log WHERE user_id = '${bob}' AND seq = 2`);
    const res = verify(bob);
    expect(res.stdout).toContain(`BROKEN  ${bob}  at seq 2: gap`);
    expect(res.status).toBe(1);
  });
});
