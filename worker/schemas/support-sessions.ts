/**
 * Support sessions' shapes (issue 16 item 1, docs/decisions/0019-support-sessions.md),
 * shared by the operator's side (worker/routes/admin-support-sessions.ts,
 * admin-support-image-requests.ts) and the user's (`/me/support-*` in
 * worker/routes/me.ts).
 */
import { z } from "@hono/zod-openapi";
import { iso } from "../lib/iso";
import type { ImageRequestRow, SupportSessionRow } from "../services/support-sessions";

export const Reason = z
  .string()
  .trim()
  .min(10, "state why you need access (at least 10 characters)")
  .max(500)
  .openapi({ example: "User reports a generation stuck in queued" });

export const SessionSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    operatorId: z.string(),
    reason: z.string(),
    ticket: z.string(),
    openedAt: z.string(),
    expiresAt: z.string(),
    endedAt: z.string().nullable(),
    endedBy: z.enum(["operator", "user"]).nullable(),
  })
  .openapi("SupportSession");

export const ImageRequestSchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    userId: z.string(),
    generationId: z.string(),
    requestedBy: z.string(),
    reason: z.string(),
    createdAt: z.string(),
    status: z.enum(["pending", "approved", "refused", "withdrawn"]).openapi({ description: "`withdrawn`: allowed by the user's Settings window, which has since closed." }),
    decidedVia: z.enum(["user", "user_window", "operator"]).nullable(),
    decidedAt: z.string().nullable(),
  })
  .openapi("SupportImageRequest");

export function presentSession(r: SupportSessionRow): z.infer<typeof SessionSchema> {
  return { ...r, openedAt: new Date(r.openedAt).toISOString(), expiresAt: new Date(r.expiresAt).toISOString(), endedAt: iso(r.endedAt) };
}

export function presentRequest(r: ImageRequestRow): z.infer<typeof ImageRequestSchema> {
  return {
    id: r.id,
    sessionId: r.sessionId,
    userId: r.userId,
    generationId: r.generationId,
    requestedBy: r.requestedBy,
    reason: r.reason,
    createdAt: new Date(r.createdAt).toISOString(),
    status: r.status,
    decidedVia: r.decidedVia,
    decidedAt: iso(r.decidedAt),
  };
}
