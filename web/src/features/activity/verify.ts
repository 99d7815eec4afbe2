import { useMutation } from "@tanstack/react-query";
import { describeVerifyResult, fromApiEntry, verifyAuditLog, type ApiAuditEntry, type VerifyResult } from "#shared/audit-verify";
import { unwrap } from "../../lib/api/problem";
import type { ApiClient } from "../../lib/api/client";
import { useApi } from "../auth/useApi";

export interface LogCheck {
  result: VerifyResult;
  /** The plain-words verdict, the same text `npm run audit:verify` prints. */
  text: string;
}

/**
 * Fetches the whole log, every checkpoint and the public keys, then verifies
 * them here in the browser with WebCrypto (worker/lib/audit-verify.ts, the
 * same code as the CLI). Checkpoints are fetched before the entries so every
 * checkpoint is at or below the newest entry read (reading the log appends
 * `audit.viewed` entries, which no checkpoint covers yet).
 */
async function allPages<T>(fetchPage: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: T[]; nextCursor: string | null } = await fetchPage(cursor);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

export async function checkActivityLog(api: ApiClient): Promise<LogCheck> {
  const me = unwrap(await api.GET("/v1/me"));
  const keys = unwrap(await api.GET("/v1/audit/keys")).keys;
  const checkpoints = await allPages(async (cursor) =>
    unwrap(await api.GET("/v1/account/audit/checkpoints", { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } })),
  );
  const newestFirst: ApiAuditEntry[] = await allPages(async (cursor) =>
    unwrap(await api.GET("/v1/account/audit", { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } })),
  );
  const result = await verifyAuditLog({ userId: me.id, entries: newestFirst.reverse().map(fromApiEntry), checkpoints, keys });
  return { result, text: describeVerifyResult(result) };
}

export function useCheckActivityLog() {
  const api = useApi();
  return useMutation({ mutationFn: () => checkActivityLog(api) });
}
