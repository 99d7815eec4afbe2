/**
 * Reads of a user's data by someone other than the user: every one is an
 * audit entry (`data.read`) whose actor names the reader and whose
 * `detail.reason` says why (docs/audit-log.md "What is logged"). Support
 * reads are logged as `support.accessed` (services/support.ts); deletions by
 * jobs as `retention.deleted`, `export.deleted` and `account.deleted`.
 */
import type { AuditEvent } from "./audit";

/** Who reads, and why, for each place BabyPic itself reads a user's photos, results or records. */
export const SYSTEM_READS = {
  "generation.submit": {
    actor: "generation-pipeline",
    reason: "Decrypted your two parent photos to send them to the image model (Fal) to make your baby picture",
  },
  "generation.input": {
    actor: "model-provider",
    reason: "The image model fetched one of your parent photos through a one-time link",
  },
  "export.build": {
    actor: "export",
    reason: "Read your photos, results and records to build the data export you asked for",
  },
} as const;
export type SystemRead = keyof typeof SYSTEM_READS;

/** The `data.read` entry for one system read of `userId`'s data. */
export function systemReadEvent(
  read: SystemRead,
  userId: string,
  target: { type: string; id: string },
  detail: Record<string, string | number | boolean | null> = {},
): AuditEvent {
  const r = SYSTEM_READS[read];
  return { userId, actor: { type: "system", id: r.actor }, action: "data.read", target, detail: { ...detail, reason: r.reason } };
}
