/**
 * Background tasks that failed, kept where an operator reads them
 * (`GET /v1/support/operations`, `npm run ops:issues`), never only in a log.
 * A task is one row (`kind:ref`), updated on every attempt: `retrying` while
 * the queue backs off, `failed` once attempts are spent or the error cannot
 * heal by itself (a wrong key), `resolved` when a later attempt succeeded.
 * Rows carry no personal data (see worker/db/schema.ts `opsIssues`).
 */
import { and, desc, eq, inArray } from "drizzle-orm";
import { logger } from "../lib/log";
import { opsIssues } from "../db/schema";
import type { Services } from "./types";

export type OpsIssueKind = (typeof opsIssues.$inferSelect)["kind"];
export type OpsIssueStatus = (typeof opsIssues.$inferSelect)["status"];
export type OpsIssue = typeof opsIssues.$inferSelect;

/** How many times the queue tries a task before it is `failed` (wrangler.toml max_retries is 5). */
export const MAX_TASK_ATTEMPTS = 6;

/** Backoff for a re-queued task: 30 s, 1, 2, 4, 8 min, then 15 min. */
export function taskDelaySeconds(attempt: number): number {
  return Math.min(900, 30 * 2 ** Math.max(0, attempt - 1));
}

function issueId(kind: OpsIssueKind, ref: string): string {
  return `${kind}:${ref}`;
}

/** Records a failed attempt (error text capped; callers pass status lines, never addresses or keys). */
export async function recordIssue(
  s: Services,
  input: { kind: OpsIssueKind; ref: string; status: Exclude<OpsIssueStatus, "resolved">; attempts: number; error: string },
): Promise<void> {
  const now = s.now();
  const lastError = input.error.slice(0, 300);
  await s.db
    .insert(opsIssues)
    .values({ id: issueId(input.kind, input.ref), kind: input.kind, ref: input.ref, status: input.status, attempts: input.attempts, lastError, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: opsIssues.id, set: { status: input.status, attempts: input.attempts, lastError, updatedAt: now } });
  logger.error("ops.issue", { kind: input.kind, ref: input.ref, status: input.status, attempts: input.attempts });
}

/** Marks a task that finally succeeded; a task that never failed has no row and gets none. */
export async function resolveIssue(s: Services, kind: OpsIssueKind, ref: string): Promise<void> {
  await s.db
    .update(opsIssues)
    .set({ status: "resolved", updatedAt: s.now() })
    .where(and(eq(opsIssues.id, issueId(kind, ref)), inArray(opsIssues.status, ["retrying", "failed"])));
}

export async function listIssues(s: Services, opts: { statuses?: OpsIssueStatus[]; limit?: number } = {}): Promise<OpsIssue[]> {
  const statuses = opts.statuses ?? ["retrying", "failed"];
  return s.db
    .select()
    .from(opsIssues)
    .where(inArray(opsIssues.status, statuses))
    .orderBy(desc(opsIssues.updatedAt))
    .limit(opts.limit ?? 100)
    .all();
}
