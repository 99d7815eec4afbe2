/**
 * Shared by the operator console's API (issue 16), `/v1/admin/<x>/...`, one
 * route file per resource (worker/routes/admin-*.ts). Every route is for
 * operators only, declared in its createRoute (`authenticated({ operator:
 * true, ... })`, worker/middleware/auth.ts): the role comes from server-side
 * metadata (the session claim `role: "admin"` set by Clerk's public metadata,
 * or ADMIN_USER_IDS), never from anything the user can set; browser sessions
 * only, an API key never acts as an operator; everyone else gets 404
 * `not_found`, as for /v1/support. Every action is recorded in the operator
 * log and in the affected user's activity log (services/operator.ts).
 */
import { z } from "@hono/zod-openapi";
import { ownedErrors } from "./common";

export const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(100) });
export const operatorErrors = ownedErrors;
export const Note = z.string().trim().min(5, "say what you did and why (at least 5 characters)").max(2000).openapi({ example: "Verified the requester by email reply." });
