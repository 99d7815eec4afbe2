/**
 * Fal payload deletion that is never only logged: a failed call is queued
 * again with backoff (`fal.payloads_delete`, bounded attempts) and recorded
 * in `ops_issues`, where the operator sees it; a key Fal refuses (401/403)
 * is recorded as failed at once, since only the operator can fix it.
 */
import type { JobHandler } from "./jobs";
import { ProviderError, type ImageProvider } from "../providers/types";
import type { Services } from "./types";
import { MAX_TASK_ATTEMPTS, recordIssue, resolveIssue, taskDelaySeconds } from "./ops-issues";

export type CleanupResult = "deleted" | "retrying" | "failed";

export async function deleteProviderPayloads(s: Services, provider: ImageProvider, requestId: string, attempt = 1): Promise<CleanupResult> {
  try {
    await provider.deletePayloads(requestId);
  } catch (err) {
    const transient = err instanceof ProviderError ? err.transient : true;
    const error = err instanceof Error ? err.message : "unknown error";
    if (!transient || attempt >= MAX_TASK_ATTEMPTS) {
      await recordIssue(s, { kind: "fal.payloads_delete", ref: requestId, status: "failed", attempts: attempt, error });
      return "failed";
    }
    await recordIssue(s, { kind: "fal.payloads_delete", ref: requestId, status: "retrying", attempts: attempt, error });
    await s.env.JOBS.send({ kind: "fal.payloads_delete", requestId, attempt: attempt + 1 }, { delaySeconds: taskDelaySeconds(attempt) });
    return "retrying";
  }
  if (attempt > 1) await resolveIssue(s, "fal.payloads_delete", requestId);
  return "deleted";
}

/** The queue handler; on the dead-letter queue the task is recorded as failed. */
export function providerCleanupHandlers(): Record<"fal.payloads_delete", JobHandler> {
  return {
    "fal.payloads_delete": async (s, msg, ctx) => {
      if (msg.kind !== "fal.payloads_delete") return;
      if (ctx.deadLetter) {
        await recordIssue(s, { kind: "fal.payloads_delete", ref: msg.requestId, status: "failed", attempts: msg.attempt, error: "dead-lettered" });
        return;
      }
      await deleteProviderPayloads(s, s.pipeline.provider, msg.requestId, msg.attempt);
    },
  };
}
