/**
 * Promise: every deletion of a user's data is in their audit log
 * (docs/audit-log.md). Deleting an export, by the user or by the one-hour
 * expiry sweep, appends `export.deleted`; nothing else asserted it.
 */
import { describe, expect, it } from "vitest";
import { exportsTable } from "../../worker/db/schema";
import { newId } from "../../worker/lib/ids";
import { RETENTION } from "../../worker/lib/privacy-facts";
import { runSweeps } from "../../worker/scheduled";
import { api, json, services, signIn } from "../helpers";

interface AuditItems {
  items: { action: string; target: { type: string; id: string } | null; detail: Record<string, unknown> | null }[];
}

async function auditOf(user: string): Promise<AuditItems["items"]> {
  const res = await api("/v1/account/audit?limit=100", { user });
  expect(res.status).toBe(200);
  return (await json<AuditItems>(res)).items;
}

describe("export deletion: audited (happy)", () => {
  it("the user deleting an export appends export.deleted with the receipt id", async () => {
    const userId = await signIn("alice");
    const id = newId("exp");
    const now = Date.now();
    await services().db.insert(exportsTable).values({ id, userId, status: "queued", createdAt: now, expiresAt: now + RETENTION.exportTtlMs });

    const res = await api(`/v1/account/exports/${id}`, { method: "DELETE", user: "alice" });
    expect(res.status).toBe(200);
    const receipt = await json<{ id: string; kind: string }>(res);
    expect(receipt.kind).toBe("export");

    const entry = (await auditOf("alice")).find((e) => e.action === "export.deleted");
    expect(entry?.target).toEqual({ type: "export", id });
    expect(entry?.detail?.["receipt"]).toBe(receipt.id);
  });

  it("the expiry sweep deleting an export appends export.deleted (reason expired)", async () => {
    const userId = await signIn("bob");
    const id = newId("exp");
    const now = Date.now();
    await services().db
      .insert(exportsTable)
      .values({ id, userId, status: "ready", createdAt: now - 2 * RETENTION.exportTtlMs, completedAt: now - 2 * RETENTION.exportTtlMs, expiresAt: now - 1 });

    const results = await runSweeps(services());
    expect(results.every((r) => r.ok)).toBe(true);

    const entry = (await auditOf("bob")).find((e) => e.action === "export.deleted");
    expect(entry?.target).toEqual({ type: "export", id });
    expect(entry?.detail?.["reason"]).toBe("expired");
  });
});
