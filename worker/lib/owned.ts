/**
 * What the routes on the caller's own resources share (docs/architecture.md):
 * the request's services, caller and log metadata with the owner-scoped 404
 * (`ownerContext`), and the one shape every "delete one of mine" route has
 * (`deleteOwned`).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { serializeReceipt } from "../schemas/deletion";
import { appendAudit, auditActor, type AuditEvent } from "../services/audit";
import type { Actor, DeletionReceipt } from "../services/deletion";
import type { Services } from "../services/types";
import { notFoundFor, type OwnedTable } from "../services/security-log";
import { requestMeta } from "./request-meta";

/**
 * What an authenticated route's handler starts with: the services, the
 * caller, the request's minimised metadata (for the logs), and
 * `missing(table, id)`, the owner-scoped 404 for an id that is not the
 * caller's (`throw await missing(...)`; a `not_found_probe` security event
 * when it exists under another user, services/security-log.ts), and
 * `audit({ action, target, detail })`, which appends the caller's own action
 * to their activity log now (services/audit.ts appendAudit). Not for
 * anonymous routes: they have no caller.
 */
export function ownerContext(c: Context<AppEnv>) {
  const s: Services = c.get("services");
  const auth = c.get("auth");
  const meta = requestMeta(c.req.raw, c.get("requestId"));
  const missing = (table: OwnedTable, id: string, reason?: string) =>
    notFoundFor(s, { table, id, userId: auth.userId, meta, path: c.req.path, ...(reason === undefined ? {} : { reason }) });
  const audit = (event: Omit<AuditEvent, "userId" | "actor" | "meta">, at = s.now()) =>
    appendAudit(s.db, { userId: auth.userId, actor: auditActor(auth), ...event, meta }, at);
  return { s, auth, meta, missing, audit };
}

/**
 * Deletes one of the caller's own things: the deletion service scopes by
 * owner itself and answers null for a missing id and for anyone else's alike,
 * which becomes the same 404, with a `not_found_probe` security event when the
 * id exists under another user.
 */
export async function deleteOwned(
  c: Context<AppEnv>,
  table: OwnedTable,
  id: string,
  remove: (s: Services, who: Actor, id: string) => Promise<DeletionReceipt | null>,
): Promise<ReturnType<typeof serializeReceipt>> {
  const { s, auth, meta, missing } = ownerContext(c);
  const receipt = await remove(s, { userId: auth.userId, actor: auditActor(auth), meta }, id);
  if (!receipt) throw await missing(table, id);
  return serializeReceipt(receipt);
}
