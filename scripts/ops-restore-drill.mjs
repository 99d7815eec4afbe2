#!/usr/bin/env node
/**
 * npm run ops:restore-drill [-- --persist-to <dir>] [--scratch <dir>]
 *
 * Restores the latest backup of the LOCAL state (its backup bucket) into a
 * scratch state (a fresh directory, removed afterwards unless --scratch names
 * one), then tries to decrypt every object of every user in it with every
 * secret there is: MASTER_KEYS from .dev.vars and the live key bucket (keys
 * are never in a backup; docs/decisions/0011). Ends with exactly one JSON line
 * on stdout:
 *   {"users":[{"id":"usr_…","objects":N,"decrypted":M}, …]}
 * A deleted user's objects all fail (their key is shredded); a live user's
 * all succeed. Exit 0 when the drill ran, 2 on usage errors.
 * docs/runbooks/backups.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalState, parseOptions, quietStdout } from "./lib/local-state.mjs";
import { importWorkerModule } from "./lib/worker-module.mjs";

const USAGE = "usage: npm run ops:restore-drill [-- --persist-to <dir>] [--scratch <dir>]";
const opts = parseOptions(process.argv.slice(2), ["persist-to", "scratch"], USAGE);
const print = quietStdout();
const ops = await importWorkerModule("worker/services/ops.ts");
const scratchDir = opts["scratch"] ?? mkdtempSync(join(tmpdir(), "babypic-restore-"));
const live = await openLocalState(opts["persist-to"]);
let scratch;
try {
  scratch = await openLocalState(scratchDir);
  const restored = await ops.restoreBackup(live.env.BACKUP, scratch.env.BUCKET);
  console.error(`[restore-drill] restored ${restored} backed-up objects into ${scratchDir}`);
  const result = await ops.restoreDrill(ops.createServices(live.env), scratch.env.BUCKET);
  print(JSON.stringify(result));
} finally {
  await scratch?.dispose();
  await live.dispose();
  if (!opts["scratch"]) rmSync(scratchDir, { recursive: true, force: true });
}
