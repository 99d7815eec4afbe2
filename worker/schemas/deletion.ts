import { z } from "@hono/zod-openapi";
import type { DeletionReceipt } from "../services/deletion";

/** What every deletion answers with (docs/architecture.md): no personal data, ids only as hashes. */
export const ReceiptSchema = z
  .object({
    id: z.string().openapi({ example: "rcp_0f3c5e7a9b1d2f4a6c8e0a2b4d6f8a1c" }),
    kind: z.enum(["photo", "generation", "account", "export"]),
    subjectHash: z
      .string()
      .openapi({ description: "HMAC-SHA256 hex of `receipt|<kind>|<id>` under a service secret: the service can match it to the id you deleted; it reveals nothing to anyone else." }),
    counts: z.record(z.string(), z.number().int()).openapi({ example: { generations: 1, outputs: 2, exports: 0 } }),
    deletedAt: z.string().openapi({ example: "2026-11-27T06:00:00.000Z" }),
  })
  .openapi("DeletionReceipt");

export function serializeReceipt(r: DeletionReceipt): z.infer<typeof ReceiptSchema> {
  return { id: r.id, kind: r.kind, subjectHash: r.subjectHash, counts: r.counts, deletedAt: r.deletedAt };
}
