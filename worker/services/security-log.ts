/**
 * Security log: authentication failures, signature failures and 404s on other
 * users' ids, so that probing and enumeration are visible. Holds no tokens or
 * signatures, only the kind, a reason code, the truncated IP and request id.
 */
import type { Db } from "../db/client";
import { securityLog } from "../db/schema";
import { newId } from "../lib/ids";
import type { RequestMeta } from "../lib/request-meta";

export type SecurityEventKind = "auth_failed" | "signature_failed" | "not_found_probe" | "link_refused" | "scope_denied" | "rate_limited";

export async function logSecurityEvent(
  db: Db,
  kind: SecurityEventKind,
  meta: RequestMeta,
  now: number,
  detail: { reason: string; userId?: string | null; path?: string },
): Promise<void> {
  const row = {
    id: newId("sec"),
    at: now,
    kind,
    ipPrefix: meta.ipPrefix,
    requestId: meta.requestId,
    userId: detail.userId ?? null,
    detail: JSON.stringify({ reason: detail.reason, ...(detail.path ? { path: detail.path } : {}) }),
  };
  await db.insert(securityLog).values(row);
  console.warn(JSON.stringify({ level: "warn", event: "security", kind, reason: detail.reason, requestId: meta.requestId }));
}
