/**
 * The one shape every "delete one of mine" route shares (docs/architecture.md): the
 * deletion service scopes by owner itself and answers null for a missing id
 * and for anyone else's alike, which becomes the same 404, with a
 * `not_found_probe` security event when the id exists under another user.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { serializeReceipt } from "../schemas/deletion";
import { auditActor } from "../services/audit";
import type { Actor, DeletionReceipt } from "../services/deletion";
import type { Services } from "../services/types";
import { notFoundFor, type OwnedTable } from "../services/security-log";
import { requestMeta } from "./request-meta";

export async function deleteOwned(
  c: Context<AppEnv>,
  table: OwnedTable,
  id: string,
  remove: (s: Services, who: Actor, id: string) => Promise<DeletionReceipt | null>,
): Promise<ReturnType<typeof serializeReceipt>> {
  const s = c.get("services");
  const auth = c.get("auth");
  const meta = requestMeta(c.req.raw, c.get("requestId"));
  const receipt = await remove(s, { userId: auth.userId, actor: auditActor(auth), meta }, id);
  if (!receipt) throw await notFoundFor(s, { table, id, userId: auth.userId, meta, path: c.req.path });
  return serializeReceipt(receipt);
}
