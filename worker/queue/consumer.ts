/**
 * Thin dispatcher: parse each message with zod, hand it to a service, then
 * ack it or retry it with exponential backoff. Unparseable messages are acked
 * (retrying cannot fix them) and logged without their body.
 */
import type { Bindings } from "../env";
import { errorText, logger } from "../lib/log";
import { createServices } from "../services";
import { dataRightsHandlers } from "../services/data-rights-jobs";
import { generationHandlers } from "../services/generation-jobs";
import type { JobHandler } from "../services/jobs";
import { mailHandlers } from "../services/mail-jobs";
import { providerCleanupHandlers } from "../services/provider-cleanup";
import { webhookHandlers } from "../services/webhook-jobs";
import { JobMessageSchema, type JobMessage, type ParsedJobMessage } from "./messages";

export type { JobHandler } from "../services/jobs";

/** Each job kind and the service function that runs it. */
const handlers: Partial<Record<ParsedJobMessage["kind"], JobHandler>> = {
  ...generationHandlers(),
  ...dataRightsHandlers(),
  ...providerCleanupHandlers(),
  ...mailHandlers(),
  ...webhookHandlers(),
};

export function backoffSeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts - 1) * 5);
}

export async function handleQueue(batch: MessageBatch<JobMessage>, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  const s = createServices(env);
  const deadLetter = batch.queue.endsWith("-dlq");
  // Messages of a batch run concurrently (at most max_batch_size, 10): one
  // slow Fal call must not hold up the others. Each is still acked or retried on its own.
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = JobMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        logger.error("queue.bad_message", { queue: batch.queue, id: message.id });
        message.ack();
        return;
      }
      const handler = handlers[parsed.data.kind];
      if (!handler) {
        logger.error("queue.no_handler", { kind: parsed.data.kind });
        message.ack();
        return;
      }
      try {
        await handler(s, parsed.data, { attempts: message.attempts, deadLetter });
        message.ack();
      } catch (err) {
        logger.error("queue.retry", { kind: parsed.data.kind, attempts: message.attempts, error: errorText(err) });
        message.retry({ delaySeconds: backoffSeconds(message.attempts) });
      }
    }),
  );
}
