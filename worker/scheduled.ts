/** Cron entry: runs every retention and recovery sweep (docs/architecture.md). */
import type { Bindings } from "./env";
import { errorText, logger } from "./lib/log";
import { createServices, type Services } from "./services";
import { DATA_RIGHTS_SWEEPS } from "./services/data-rights-jobs";
import { sweepCheckpoints } from "./services/audit-checkpoints";
import { sealPendingAudit } from "./services/audit";
import { sweepGenerations } from "./services/generation-jobs";
import { migrateLegacyKeys, rewrapStaleKeys } from "./services/crypto/keys";
import { runBackup } from "./services/backup";
import { sealLegacyFields } from "./services/field-migration";

export type Sweep = (s: Services) => Promise<void>;
/** Every sweep the cron runs, in order. */
const sweeps: { name: string; run: Sweep }[] = [
  {
    name: "generations.deadline",
    run: async (s) => {
      await sweepGenerations(s);
    },
  },
  ...DATA_RIGHTS_SWEEPS,
  {
    // Chains audit entries recorded by requests whose after-answer sealing did not finish (docs/decisions/0018).
    name: "audit.seal",
    run: async (s) => {
      await sealPendingAudit(s);
    },
  },
  {
    // Signs the head of every audit chain that changed, at least daily (docs/audit-log.md).
    name: "audit.checkpoints",
    run: async (s) => {
      await sweepCheckpoints(s);
    },
  },
  {
    // Moves key files written before docs/decisions/0011 out of the data bucket, so no backup can carry them.
    name: "keys.migrate",
    run: async (s) => {
      await migrateLegacyKeys(s);
    },
  },
  {
    // KEK rotation: moves wrapped DEKs off an old master key so it can be retired (docs/runbooks/keys.md).
    name: "keys.rewrap",
    run: async (s) => {
      await rewrapStaleKeys(s);
    },
  },
  {
    // Personal fields written before they were encrypted (docs/decisions/0012-encrypted-d1-fields.md).
    name: "fields.seal_legacy",
    run: async (s) => {
      await sealLegacyFields(s);
    },
  },
  {
    // Copies new and changed encrypted objects into the backup bucket and expires old copies (docs/runbooks/backups.md).
    name: "backup",
    run: async (s) => {
      await runBackup(s);
    },
  },
];

/** Runs every sweep; one failing sweep does not stop the others. */
export async function runSweeps(s: Services): Promise<{ name: string; ok: boolean }[]> {
  const results: { name: string; ok: boolean }[] = [];
  for (const sweep of sweeps) {
    try {
      await sweep.run(s);
      results.push({ name: sweep.name, ok: true });
    } catch (err) {
      logger.error("sweep.failed", { sweep: sweep.name, error: errorText(err) });
      results.push({ name: sweep.name, ok: false });
    }
  }
  return results;
}

export async function handleScheduled(_controller: ScheduledController, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  await runSweeps(createServices(env));
}
