/**
 * Export (GDPR Art. 15/20): a queued job streams a ZIP into encrypted
 * storage; it opens, its manifest's SHA-256s match, its images decrypt to
 * what was stored, it holds nothing of anyone else, and it is served only
 * through a signed link for one hour.
 */
import { and, eq } from "drizzle-orm";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { exportsTable, objects } from "../../worker/db/schema";
import { toHex } from "../../worker/lib/bytes";
import { newId } from "../../worker/lib/ids";
import { RETENTION } from "../../worker/lib/privacy-facts";
import { buildExport } from "../../worker/services/export";
import { putObject } from "../../worker/services/storage";
import { api, expectProblem, json, services } from "../helpers";
import { allR2Keys, imageBytes, seedAccount, type SeededAccount } from "./fixtures";

interface ExportView {
  id: string;
  status: "queued" | "building" | "ready" | "failed";
  progress: number;
  createdAt: string;
  completedAt: string | null;
  expiresAt: string;
  download: { url: string; expiresAt: string } | null;
}

interface Manifest {
  schemaVersion: number;
  exportId: string;
  files: { path: string; bytes: number; sha256: string }[];
}

const path = (url: string) => new URL(url).pathname + new URL(url).search;
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array());

async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** Polls (no timing assertions) while the queue consumer builds the export. */
async function waitReady(user: string, id: string, tries = 300): Promise<ExportView> {
  for (let i = 0; i < tries; i++) {
    const view = await json<ExportView>(await api(`/v1/account/exports/${id}`, { user }));
    if (view.status === "ready" || view.status === "failed") return view;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`export ${id} never finished`);
}

async function exportAndDownload(a: SeededAccount): Promise<{ view: ExportView; zip: Record<string, Uint8Array>; res: Response }> {
  const created = await api("/v1/account/exports", { method: "POST", user: a.user });
  expect(created.status).toBe(202);
  const first = await json<ExportView>(created);
  expect(first.status).toBe("queued");
  expect(created.headers.get("location")).toBe(`/v1/account/exports/${first.id}`);
  const view = await waitReady(a.user, first.id);
  expect(view.status).toBe("ready");
  expect(view.download).not.toBeNull();
  const res = await api(path(view.download?.url ?? ""));
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { view, zip: unzipSync(bytes), res };
}

describe("export: happy", () => {
  it("builds a ZIP whose manifest checksums match, whose images decrypt to what was stored, and that holds only this user's data", async () => {
    const a = await seedAccount("exp-1", 41);
    const bob = await seedAccount("exp-bob", 42);
    const loose = await putObject(services(), { userId: a.userId, kind: "photo", contentType: "image/jpeg", bytes: imageBytes(4100), width: 300, height: 300 });
    a.plain.set(loose.id, imageBytes(4100));

    const { view, zip, res } = await exportAndDownload(a);
    expect(res.headers.get("content-disposition")).toContain("attachment");
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(view.progress).toBe(100);
    expect(Date.parse(view.expiresAt) - Date.parse(view.completedAt ?? "")).toBe(RETENTION.exportTtlMs);

    const manifest = JSON.parse(text(zip["manifest.json"])) as Manifest;
    expect(manifest.schemaVersion).toBe(1);
    expect(manifest.exportId).toBe(view.id);
    const names = Object.keys(zip).filter((n) => n !== "manifest.json").sort();
    expect(manifest.files.map((f) => f.path).sort()).toEqual(names);
    for (const f of manifest.files) {
      const file = zip[f.path];
      expect(file, f.path).toBeDefined();
      expect(await sha256(file ?? new Uint8Array()), f.path).toBe(f.sha256);
      expect(file?.length).toBe(f.bytes);
    }
    for (const required of ["account.json", "audit-log.json", "payments.json", "privacy.json", `generations/${a.generationId}/metadata.json`]) {
      expect(names).toContain(required);
    }

    const account = JSON.parse(text(zip["account.json"])) as { id: string; apiKeys: { id: string; hash?: string }[] };
    expect(account.id).toBe(a.userId);
    expect(account.apiKeys.map((k) => k.id)).toEqual([a.apiKeyId]);
    expect(account.apiKeys[0]?.hash).toBeUndefined();

    const meta = JSON.parse(text(zip[`generations/${a.generationId}/metadata.json`])) as {
      inputs: { role: string; objectId: string; file: string }[];
      outputs: { objectId: string; file: string }[];
    };
    expect(meta.inputs.map((i) => i.role)).toEqual(["mother", "father"]);
    expect(meta.outputs).toHaveLength(2);
    for (const item of [...meta.inputs, ...meta.outputs]) {
      expect(item.file).toMatch(/^generations\/gen_[0-9a-f]{32}\/(input-(mother|father)|output-\d)\.jpg$/);
      expect(zip[item.file]).toEqual(a.plain.get(item.objectId));
    }
    expect(zip[`photos/${loose.id}.jpg`]).toEqual(a.plain.get(loose.id));

    const audit = JSON.parse(text(zip["audit-log.json"])) as { entries: { userId: string; seq: number; action: string }[] };
    expect(audit.entries.length).toBeGreaterThan(0);
    expect(audit.entries.every((e) => e.userId === a.userId)).toBe(true);
    expect(audit.entries.map((e) => e.seq)).toEqual(audit.entries.map((_, i) => i + 1));
    expect(audit.entries.map((e) => e.action)).toContain("export.requested");
    const payments = JSON.parse(text(zip["payments.json"])) as { payments: { providerTxnId: string }[]; ledger: { reason: string }[] };
    expect(payments.payments.map((p) => p.providerTxnId)).toEqual([a.paymentTxnId]);
    expect(payments.ledger.map((l) => l.reason)).toContain("free_grant");
    const privacy = JSON.parse(text(zip["privacy.json"])) as { subProcessors: unknown[]; rights: { article: string }[]; retention: unknown[] };
    expect(privacy.subProcessors.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(privacy.rights)).toContain("Art. 15");

    // Nothing of Bob: none of his ids in any file, none of his images.
    const bobIds = [bob.userId, bob.generationId, bob.apiKeyId, bob.paymentTxnId, ...bob.photoIds, ...bob.outputIds];
    for (const [name, bytes] of Object.entries(zip)) {
      const t = text(bytes);
      for (const id of bobIds) expect(t.includes(id), `${name} mentions ${id}`).toBe(false);
      for (const img of bob.plain.values()) expect(bytes.length === img.length && bytes.every((b, i) => b === img[i])).toBe(false);
    }

    // The ZIP at rest is encrypted: its plaintext never appears in R2.
    const row = await services().db.select().from(exportsTable).where(eq(exportsTable.id, view.id)).get();
    const obj = await services().db.select().from(objects).where(eq(objects.id, row?.objectId ?? "")).get();
    expect(obj?.kind).toBe("export");
    expect((await allR2Keys()).includes(obj?.r2Key ?? "")).toBe(true);

    const trail = await json<{ items: { action: string }[] }>(await api("/v1/account/audit?limit=100", { user: a.user }));
    const actions = trail.items.map((e) => e.action);
    for (const act of ["export.requested", "export.ready", "link.issued", "export.downloaded"]) expect(actions).toContain(act);
  });

  it("streams a large account through a multipart upload and still round-trips every image", async () => {
    const a = await seedAccount("exp-big", 43);
    const s = services();
    const big: string[] = [];
    for (let i = 0; i < 3; i++) {
      const bytes = imageBytes(4300 + i, 2_500_000);
      const row = await putObject(s, { userId: a.userId, kind: "output", contentType: "image/jpeg", bytes, generationId: a.generationId });
      a.plain.set(row.id, bytes);
      big.push(row.id);
    }
    const { zip } = await exportAndDownload(a);
    const meta = JSON.parse(text(zip[`generations/${a.generationId}/metadata.json`])) as { outputs: { objectId: string; file: string }[] };
    expect(meta.outputs).toHaveLength(5);
    for (const o of meta.outputs) expect(zip[o.file]).toEqual(a.plain.get(o.objectId));
    const manifest = JSON.parse(text(zip["manifest.json"])) as Manifest;
    expect(manifest.files.reduce((n, f) => n + f.bytes, 0)).toBeGreaterThan(7_500_000);
  });

  it("lists exports newest first and asking again while one runs returns that one", async () => {
    const a = await seedAccount("exp-2", 44);
    const s = services();
    const running = newId("exp");
    await s.db.insert(exportsTable).values({ id: running, userId: a.userId, status: "building", progress: 40, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    const again = await json<ExportView>(await api("/v1/account/exports", { method: "POST", user: a.user }));
    expect(again.id).toBe(running);
    expect(again.progress).toBe(40);
    const list = await json<{ items: ExportView[]; nextCursor: string | null }>(await api("/v1/account/exports", { user: a.user }));
    expect(list.items.map((e) => e.id)).toEqual([running]);
    expect(list.items[0]?.download).toBeNull();
  });

  it("pages exports created in the same millisecond without skipping or repeating one", async () => {
    const a = await seedAccount("exp-page", 48);
    const s = services();
    const at = Date.now() - 1000;
    const ids = [newId("exp"), newId("exp"), newId("exp")];
    for (const id of ids) await s.db.insert(exportsTable).values({ id, userId: a.userId, status: "failed", createdAt: at, expiresAt: Date.now() + 3_600_000 });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 4; i++) {
      const page: { items: ExportView[]; nextCursor: string | null } = await json(await api(`/v1/account/exports?limit=1${cursor ? `&cursor=${cursor}` : ""}`, { user: a.user }));
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].sort().reverse());
  });
});

describe("export: errors and security", () => {
  it("another user's export is a 404 like a missing one; API keys cannot export", async () => {
    const a = await seedAccount("exp-3", 45);
    await seedAccount("exp-thief", 46);
    const id = newId("exp");
    await services().db.insert(exportsTable).values({ id, userId: a.userId, status: "queued", createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    await expectProblem(await api(`/v1/account/exports/${id}`, { user: "exp-thief" }), 404, "not_found");
    await expectProblem(await api(`/v1/account/exports/${newId("exp")}`, { user: "exp-thief" }), 404, "not_found");
    await expectProblem(await api(`/v1/account/exports/${id}`, { method: "DELETE", user: "exp-thief" }), 404, "not_found");
    await expectProblem(await api("/v1/account/exports", { method: "POST", token: a.apiKeySecret }), 403, "insufficient_scope");
    await expectProblem(await api("/v1/account/exports?cursor=bm90LWEtY3Vyc29y", { user: a.user }), 400, "validation_failed");
  });

  it("an expired export is gone (404), and a build for a deleted export stores nothing", async () => {
    const a = await seedAccount("exp-4", 47);
    const s = services();
    const expired = newId("exp");
    await s.db.insert(exportsTable).values({ id: expired, userId: a.userId, status: "queued", createdAt: Date.now() - 7_200_000, expiresAt: Date.now() - 1 });
    await expectProblem(await api(`/v1/account/exports/${expired}`, { user: a.user }), 404, "not_found");

    const before = (await s.db.select().from(objects).where(eq(objects.userId, a.userId)).all()).length;
    await buildExport(s, newId("exp"));
    expect((await s.db.select().from(objects).where(eq(objects.userId, a.userId)).all()).length).toBe(before);
  });

  it("deleting an export removes its ZIP and kills its link", async () => {
    const a = await seedAccount("exp-5", 48);
    const { view } = await exportAndDownload(a);
    const res = await api(`/v1/account/exports/${view.id}`, { method: "DELETE", user: a.user });
    expect(res.status).toBe(200);
    expect((await json<{ kind: string }>(res)).kind).toBe("export");
    expect((await api(path(view.download?.url ?? ""))).status).not.toBe(200);
    expect(await services().db.select().from(objects).where(and(eq(objects.kind, "export"), eq(objects.userId, a.userId))).all()).toEqual([]);
  });
});
