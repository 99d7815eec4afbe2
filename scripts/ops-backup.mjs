#!/usr/bin/env node
/**
 * npm run ops:backup [-- --persist-to <dir>]
 *
 * Takes a backup of the LOCAL state now (the state `npm start` uses under
 * .wrangler/, or --persist-to), exactly as the cron's `backup` sweep does:
 * the same runBackup from worker/services/backup.ts, run until a whole pass
 * is done, against the local data bucket (BUCKET) and backup bucket (BACKUP).
 * Prints one JSON line: {"runs":…,"checked":…,"copied":…,"expired":…}.
 * docs/runbooks/backups.md.
 */
import { openLocalState, parseOptions, quietStdout } from "./lib/local-state.mjs";
import { importWorkerModule } from "./lib/worker-module.mjs";

const USAGE = "usage: npm run ops:backup [-- --persist-to <dir>]";
const opts = parseOptions(process.argv.slice(2), ["persist-to"], USAGE);
const print = quietStdout();
const ops = await importWorkerModule("worker/services/ops.ts");
const state = await openLocalState(opts["persist-to"]);
try {
  const result = await ops.backupNow(ops.createServices(state.env));
  print(JSON.stringify(result));
} finally {
  await state.dispose();
}
