import * as z from "zod/mini";
import type { Receipt } from "../../components/DeletionReceipt";

const KEY = "babypic.accountDeletion";

const Stored = z.object({
  status: z.enum(["deleted", "pending"]),
  receipt: z.object({
    id: z.string(),
    kind: z.enum(["photo", "generation", "account", "export"]),
    subjectHash: z.string(),
    counts: z.record(z.string(), z.number()),
    deletedAt: z.string(),
  }),
});
export type AccountDeletion = { status: "deleted" | "pending"; receipt: Receipt };

/**
 * The account-deletion receipt survives the sign-out that follows (this tab
 * only, sessionStorage), so the goodbye page can show it after a reload.
 */
export function saveAccountDeletion(value: AccountDeletion): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the page still gets it through navigation state.
  }
}

export function loadAccountDeletion(state: unknown): AccountDeletion | null {
  const fromState = Stored.safeParse(state);
  if (fromState.success) return fromState.data;
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = Stored.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
