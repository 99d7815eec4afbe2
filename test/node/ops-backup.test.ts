/**
 * `npm run ops:backup` and `npm run ops:restore-drill` against a real local
 * state (a throwaway --persist-to directory, migrated like `npm start` does):
 * two users with objects, a backup, one account deleted through the real
 * deletion path, then the drill restores the backup into a scratch state and
 * prints one JSON line: the deleted user's objects 0 decrypted, the other's all.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations.
import { ensureDevVars } from "../../scripts/lib/dev-vars.mjs";
// @ts-expect-error: a plain ESM script without type declarations.
import { openLocalState } from "../../scripts/lib/local-state.mjs";
// @ts-expect-error: a plain ESM script without type declarations.
import { importWorkerModule } from "../../scripts/lib/worker-module.mjs";
// @ts-expect-error: a plain ESM script without type declarations.
import { migrate } from "../../scripts/start.mjs";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), "ops-backup-"));
const alice = `usr_${"a".repeat(32)}`;
const bob = `usr_${"b".repeat(32)}`;
const PER_USER = 3;
// Fresh local secrets for this state, as `npm run setup` makes them.
const devVars = join(dir, ".dev.vars");

interface Ops {
  createServices: (env: unknown) => unknown;
  putObject: (s: unknown, input: Record<string, unknown>) => Promise<{ id: string }>;
  deleteAccount: (s: unknown, userId: string, opts: Record<string, unknown>) => Promise<{ status: string } | null>;
}

function run(script: string, ...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "scripts", script), ...args, "--persist-to", dir], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, BABYPIC_DEV_VARS: devVars },
  });
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
}

async function withState<T>(fn: (ops: Ops, env: Record<string, unknown>) => Promise<T>): Promise<T> {
  const ops = (await importWorkerModule("worker/services/ops.ts")) as Ops;
  const state = (await openLocalState(dir, devVars)) as { env: Record<string, unknown>; dispose: () => Promise<void> };
  try {
    return await fn(ops, state.env);
  } finally {
    await state.dispose();
  }
}

beforeAll(async () => {
  ensureDevVars(devVars);
  await migrate({ persistTo: dir });
  await withState(async (ops, env) => {
    const db = env["DB"] as D1Database;
    for (const [id, ext] of [
      [alice, "user_local_alice"],
      [bob, "user_local_bob"],
    ] as const) {
      await db.prepare("INSERT INTO users (id, external_id, created_at) VALUES (?, ?, ?)").bind(id, ext, Date.now()).run();
      const s = ops.createServices(env);
      for (let i = 0; i < PER_USER; i++) {
        const bytes = crypto.getRandomValues(new Uint8Array(2000 + i));
        await ops.putObject(s, { userId: id, kind: "output", contentType: "image/png", bytes: streamOf(bytes) });
      }
    }
  });
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ops:backup and ops:restore-drill (local state)", () => {
  it("backup, delete one account, drill: exactly one JSON line, the deleted user's objects 0 decrypted, the live user's all", async () => {
    const backup = run("ops-backup.mjs");
    expect(backup.status, backup.stderr).toBe(0);
    const summary = JSON.parse(backup.stdout.trim()) as { copied: number };
    expect(summary.copied).toBe(2 * PER_USER);

    const before = run("ops-restore-drill.mjs");
    expect(before.status, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual({
      users: [
        { id: alice, objects: PER_USER, decrypted: PER_USER },
        { id: bob, objects: PER_USER, decrypted: PER_USER },
      ],
    });

    const deleted = await withState((ops, env) => ops.deleteAccount(ops.createServices(env), alice, { source: "user", retryViaQueue: false }));
    expect(deleted?.status).toBe("deleted");

    const drill = run("ops-restore-drill.mjs");
    expect(drill.status, drill.stderr).toBe(0);
    const lines = drill.stdout.split("\n").filter((l) => l.trim() !== "");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      users: [
        { id: alice, objects: PER_USER, decrypted: 0 },
        { id: bob, objects: PER_USER, decrypted: PER_USER },
      ],
    });
  }, 300_000);

  it("refuses unknown options with exit 2 and nothing on stdout", () => {
    const res = spawnSync(process.execPath, [join(ROOT, "scripts", "ops-restore-drill.mjs"), "--bogus", "x"], { cwd: ROOT, encoding: "utf8" });
    expect(res.status).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain("usage: npm run ops:restore-drill");
  });
});
