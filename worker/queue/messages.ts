/** Queue message bodies, parsed with zod by the consumer (never trusted as typed). */
import { z } from "zod";

export const JobMessageSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("generation.submit"), generationId: z.string() }),
  z.object({ kind: z.literal("generation.poll"), generationId: z.string(), attempt: z.number().int().min(0).default(0) }),
  z.object({ kind: z.literal("generation.finalize"), generationId: z.string() }),
  z.object({ kind: z.literal("export.build"), exportId: z.string() }),
  z.object({ kind: z.literal("account.delete"), userId: z.string() }),
  // Fal payload deletion that failed once (worker/services/provider-cleanup.ts).
  z.object({ kind: z.literal("fal.payloads_delete"), requestId: z.string().min(1).max(128), attempt: z.number().int().min(1).max(100) }),
  // A mail: `to` only for an account being deleted (its identity is gone by send time); otherwise resolved at send time.
  z.object({
    kind: z.literal("mail.send"),
    template: z.enum(["account_deleted", "export_ready"]),
    ref: z.string().min(1).max(200),
    userId: z.string().max(100).optional(),
    to: z.string().max(320).optional(),
    attempt: z.number().int().min(1).max(100),
  }),
  // One attempt at one outgoing webhook delivery (services/webhooks/delivery.ts); the next attempt is a new message.
  z.object({
    kind: z.literal("webhook.deliver"),
    endpointId: z.string(),
    eventId: z.string(),
    type: z.string(),
    timestamp: z.string(),
    data: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
    attempt: z.number().int().min(1).default(1),
    /**
     * Set only for account.deleted: the endpoint's URL and sealed secrets,
     * captured before the account (and so the endpoint) is deleted. Such
     * deliveries write no log row: nothing naming the user may remain.
     */
    target: z.object({ url: z.string(), secrets: z.array(z.string()).min(1) }).optional(),
  }),
  // Development only: measures the bare queue round trip for bench/pipeline.
  z.object({ kind: z.literal("dev.ping"), pingId: z.string().regex(/^[0-9a-f-]{36}$/) }),
]);

export type JobMessage = z.input<typeof JobMessageSchema>;
export type ParsedJobMessage = z.output<typeof JobMessageSchema>;
