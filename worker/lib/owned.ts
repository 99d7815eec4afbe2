/**
 * What the routes on the caller's own resources share (docs/architecture.md):
 * the request's services, caller and log metadata (`ownerContext`), and the
 * one shape every "delete one of mine" route has (`deleteOwned`).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { serializeReceipt } from "../schemas/deletion";
import { auditActor } from "../services/audit";
import type { Actor, DeletionReceipt } from "../services/deletion";
import type { Services } from "../services/types";
import { notFoundFor, type OwnedTable } from "../services/security-log";
import { requestMeta, type RequestMeta } from "./request-meta";

/** A handler's starting point: the request's services, the authenticated caller and the request's metadata for the logs. */
export function ownerContext(c: Context<AppEnv>): { s: Services; auth: AppEnv["Variables"]["auth"]; meta: RequestMeta } {
  return { s: c.get("services"), auth: c.get("auth"), meta: requestMeta(c.req.raw, c.get("requestId")) };
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
  const { s, auth, meta } = ownerContext(c);
  const receipt = await remove(s, { userId: auth.userId, actor: auditActor(auth), meta }, id);
  if (!receipt) throw await notFoundFor(s, { table, id, userId: auth.userId, meta, path: c.req.path });
  return serializeReceipt(receipt);
}
