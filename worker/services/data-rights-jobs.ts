/**
 * Wiring for data rights: the queue handlers (export.build, account.delete)
 * the consumer dispatches to, and the cron sweeps (retention rules, then
 * finishing interrupted account deletions).
 */
import type { JobHandler } from "./jobs";
import type { Services } from "./types";
import { purgeDeletedCredentials } from "./deleted-credentials";
import { resumeAccountDeletion, sweepTombstones } from "./deletion";
import { buildExport } from "./export";
import { RETENTION_SWEEPS } from "./retention";

type DataRightsKind = "export.build" | "account.delete";

export function dataRightsHandlers(): Record<DataRightsKind, JobHandler> {
  return {
    "export.build": async (s, msg, ctx) => {
      if (msg.kind !== "export.build") return;
      await buildExport(s, msg.exportId, { deadLetter: ctx.deadLetter });
    },
    "account.delete": async (s, msg) => {
      if (msg.kind !== "account.delete") return;
      // Only resumes a deletion whose tombstone exists; a failing stage throws, so the consumer retries with backoff.
      await resumeAccountDeletion(s, msg.userId, { source: "queue" });
    },
  };
}

/** Sweeps in the order the cron runs them. */
export const DATA_RIGHTS_SWEEPS: readonly { name: string; run: (s: Services) => Promise<void> }[] = [
  ...RETENTION_SWEEPS,
  { name: "account.tombstones", run: sweepTombstones },
  { name: "account.deleted-credentials", run: purgeDeletedCredentials },
].map(
  (sweep) => ({
    name: sweep.name,
    run: async (s: Services) => {
      await sweep.run(s);
    },
  }),
);
