/** Wiring for outgoing webhooks: the queue handler the consumer dispatches `webhook.deliver` to. */
import type { JobHandler } from "./jobs";
import { deliverWebhook } from "./webhooks/delivery";

export function webhookHandlers(): Record<"webhook.deliver", JobHandler> {
  return {
    "webhook.deliver": async (s, msg) => {
      if (msg.kind !== "webhook.deliver") return;
      // Failures are retried by sending the next attempt (delivery.ts), not by throwing: the schedule is longer than the queue's own retries.
      await deliverWebhook(s, msg);
    },
  };
}
