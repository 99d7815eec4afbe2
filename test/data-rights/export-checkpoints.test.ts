/**
 * Promise (docs/audit-log.md): every export holds all of the user's signed
 * checkpoints, including one made while building it, and the public keys;
 * the export's own audit-log.json verifies against them with the shared
 * verifier (the one `npm run audit:verify -- --export` runs).
 */
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { verifyAuditLog, type AuditPublicKey, type ChainEntry, type Checkpoint } from "../../worker/lib/audit-verify";
import { makeCheckpoint } from "../../worker/services/audit-checkpoints";
import { api, json, services, signIn } from "../helpers";

interface ExportView {
  id: string;
  status: string;
  download: { url: string } | null;
}

async function exportZip(user: string): Promise<Record<string, Uint8Array>> {
  const created = await api("/v1/account/exports", { method: "POST", user });
  expect(created.status).toBe(202);
  const { id } = await json<ExportView>(created);
  let view: ExportView | null = null;
  for (let i = 0; i < 300; i++) {
    view = await json<ExportView>(await api(`/v1/account/exports/${id}`, { user }));
    if (view.status === "ready" || view.status === "failed") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(view?.status).toBe("ready");
  const url = new URL(view?.download?.url ?? "");
  const res = await api(url.pathname + url.search);
  expect(res.status).toBe(200);
  return unzipSync(new Uint8Array(await res.arrayBuffer()));
}

const read = <T>(zip: Record<string, Uint8Array>, name: string): T => JSON.parse(new TextDecoder().decode(zip[name])) as T;

describe("export: checkpoints (happy)", () => {
  it("checkpoints.json holds every checkpoint (an earlier one and one made at export time) and the keys; the exported log verifies, anchored", async () => {
    const userId = await signIn("exp-cp");
    const earlier = await makeCheckpoint(services(), userId, "daily");
    const zip = await exportZip("exp-cp");
    const { checkpoints, keys } = read<{ checkpoints: Checkpoint[]; keys: AuditPublicKey[] }>(zip, "checkpoints.json");
    const { entries } = read<{ entries: (ChainEntry & { action: string })[] }>(zip, "audit-log.json");
    expect(checkpoints[0]).toEqual(earlier);
    expect(checkpoints).toHaveLength(2);
    const atExport = checkpoints[1];
    // The export-time checkpoint covers the export.requested entry.
    const requested = entries.find((e) => e.action === "export.requested");
    expect(atExport?.seq).toBeGreaterThanOrEqual(requested?.seq ?? Infinity);
    const result = await verifyAuditLog({ userId, entries, checkpoints, keys });
    expect(result).toMatchObject({ ok: true, checkpoints: 2, anchoredSeq: atExport?.seq });
    expect(read<{ files: { path: string }[] }>(zip, "manifest.json").files.map((f) => f.path)).toContain("checkpoints.json");
  });
});
