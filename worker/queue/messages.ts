/** Queue message bodies, parsed with zod by the consumer (never trusted as typed). */
import { z } from "zod";

export const JobMessageSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("generation.submit"), generationId: z.string() }),
  z.object({ kind: z.literal("generation.poll"), generationId: z.string(), attempt: z.number().int().min(0).default(0) }),
  z.object({ kind: z.literal("generation.finalize"), generationId: z.string() }),
  z.object({ kind: z.literal("export.build"), exportId: z.string() }),
  z.object({ kind: z.literal("account.delete"), userId: z.string() }),
  // Development only: measures the bare queue round trip for bench/pipeline.
  z.object({ kind: z.literal("dev.ping"), pingId: z.string().regex(/^[0-9a-f-]{36}$/) }),
]);

export type JobMessage = z.input<typeof JobMessageSchema>;
export type ParsedJobMessage = z.output<typeof JobMessageSchema>;
