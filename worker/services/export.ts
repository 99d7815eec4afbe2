/**
 * Data export (docs/architecture.md; GDPR Art. 15 access and Art. 20 portability).
 * `POST /v1/account/exports` queues an `export.build` job; the job streams a
 * ZIP (fflate, APPNOTE.TXT 6.3 with data descriptors, so no file needs to be
 * in memory twice) straight into encrypted storage. Images are decrypted one
 * at a time and JSON lists are written page by page, so a large account stays
 * inside a Worker's 128 MB. `manifest.json` comes last because it lists the
 * SHA-256 of every other file. The ZIP is downloadable for one hour through
 * a signed link, then the retention sweep deletes it.
 */
import { emitEvent } from "./webhooks/events";
import { and, asc, eq, gt, inArray, or, sql } from "drizzle-orm";
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { apiKeys, auditLog, exportsTable, generations, ledger, objects, payments, users } from "../db/schema";
import { toHex, utf8 } from "../lib/bytes";
import { newId } from "../lib/ids";
import { isLocalPreview, LOCAL_PREVIEW_LABEL, shownModel } from "../lib/local-preview";
import { privacyFacts, RETENTION } from "../lib/privacy-facts";
import type { RequestMeta } from "../lib/request-meta";
import { openApiKeyRow } from "../auth/api-keys";
import { appendAudit, openAuditRows, type AuditEvent } from "./audit";
import { systemReadEvent } from "./audit-reads";
import { allCheckpoints, makeCheckpoint, publicAuditKeys } from "./audit-checkpoints";
import { outputsQuery, parseOptions } from "./generation";
import { isBeingDeleted } from "./deletion";
import type { Services } from "./types";
import { queueMail } from "./mail-jobs";
import { deleteObjects, getObject, putObject, shredUserKey } from "./storage";
import { balanceOf, openUserFields } from "./users";
import { whoWeAre } from "../lib/who-we-are";
import { iso } from "../lib/iso";
import { streamOf } from "../lib/generator-stream";

export const EXPORT_SCHEMA_VERSION = 1;
/** Rows read per page while streaming lists into the ZIP. */
export const EXPORT_PAGE = 100;

export type ExportRow = typeof exportsTable.$inferSelect;

const SYSTEM = { type: "system", id: "export" } as const;

/**
 * Queues an export, or returns the one already queued or building (one at a
 * time per user: a second click must not double the work).
 */
export async function requestExport(
  s: Services,
  who: { userId: string; actor: AuditEvent["actor"]; meta: RequestMeta },
): Promise<{ row: ExportRow; created: boolean }> {
  const running = await s.db
    .select()
    .from(exportsTable)
    .where(and(eq(exportsTable.userId, who.userId), inArray(exportsTable.status, ["queued", "building"]), gt(exportsTable.expiresAt, s.now())))
    .get();
  if (running) return { row: running, created: false };
  const now = s.now();
  const row: ExportRow = {
    id: newId("exp"),
    userId: who.userId,
    status: "queued",
    progress: 0,
    objectId: null,
    error: null,
    createdAt: now,
    completedAt: null,
    // A build that never finishes is swept with everything else after the TTL.
    expiresAt: now + RETENTION.exportTtlMs,
  };
  await s.db.insert(exportsTable).values(row);
  await appendAudit(s.db, { userId: who.userId, actor: who.actor, action: "export.requested", target: { type: "export", id: row.id }, meta: who.meta }, now);
  await s.env.JOBS.send({ kind: "export.build", exportId: row.id });
  return { row, created: true };
}

// ------------------------------------------------------------------ ZIP writer

interface ManifestEntry {
  path: string;
  bytes: number;
  sha256: string;
}

/** A fixed mtime keeps archives byte-for-byte reproducible from the same data. */
const ZIP_MTIME = new Date("2020-01-01T00:00:00Z");

/**
 * Pull-based ZIP producer: the consumer (R2 upload) asks for the next chunk,
 * and only then is the next piece of data read, decrypted and zipped.
 */
class ZipBuilder {
  private readonly out: Uint8Array[] = [];
  private failure: Error | null = null;
  private readonly zip = new Zip((err, data) => {
    if (err) this.failure = err;
    else this.out.push(data);
  });
  readonly manifest: ManifestEntry[] = [];

  private *drain(): Generator<Uint8Array> {
    if (this.failure) throw this.failure;
    while (this.out.length) {
      const chunk = this.out.shift();
      if (chunk) yield chunk;
    }
  }

  /** Adds one file from chunks, hashing as it goes; images are stored, JSON deflated. */
  async *file(path: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, compress: boolean): AsyncGenerator<Uint8Array> {
    const entry = compress ? new ZipDeflate(path, { level: 6 }) : new ZipPassThrough(path);
    entry.mtime = ZIP_MTIME;
    this.zip.add(entry);
    const digest = new crypto.DigestStream("SHA-256");
    const writer = digest.getWriter();
    let size = 0;
    for await (const chunk of chunks) {
      if (chunk.length === 0) continue;
      await writer.write(chunk);
      size += chunk.length;
      entry.push(chunk, false);
      yield* this.drain();
    }
    entry.push(new Uint8Array(0), true);
    await writer.close();
    this.manifest.push({ path, bytes: size, sha256: toHex(await digest.digest) });
    yield* this.drain();
  }

  *end(): Generator<Uint8Array> {
    this.zip.end();
    yield* this.drain();
  }
}

function jsonFile(value: unknown): Iterable<Uint8Array> {
  return [utf8(JSON.stringify(value, null, 2))];
}

/** Streams `{"<key>": [ ...rows ]}` page by page. */
async function* jsonArrayFile<T>(key: string, pages: AsyncIterable<T[]>, head: Record<string, unknown> = {}): AsyncGenerator<Uint8Array> {
  const prefix = JSON.stringify(head).slice(0, -1);
  yield utf8(`${prefix}${prefix.length > 1 ? "," : ""}${JSON.stringify(key)}:[\n`);
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield utf8((first ? "" : ",\n") + page.map((r) => JSON.stringify(r)).join(",\n"));
    first = false;
  }
  yield utf8("\n]}\n");
}


function extFor(contentType: string): string {
  if (contentType === "image/png") return "png";
  if (contentType === "image/webp") return "webp";
  if (contentType === "image/jpeg") return "jpg";
  return "bin";
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// ------------------------------------------------------------------ contents

type GenerationRow = typeof generations.$inferSelect;
type ObjectRow = typeof objects.$inferSelect;

async function* generationPages(s: Services, userId: string): AsyncGenerator<GenerationRow[]> {
  let after: { createdAt: number; id: string } | null = null;
  for (;;) {
    const cursor: { createdAt: number; id: string } | null = after;
    const page: GenerationRow[] = await s.db
      .select()
      .from(generations)
      .where(
        cursor
          ? and(
              eq(generations.userId, userId),
              or(gt(generations.createdAt, cursor.createdAt), and(eq(generations.createdAt, cursor.createdAt), gt(generations.id, cursor.id))),
            )
          : eq(generations.userId, userId),
      )
      .orderBy(asc(generations.createdAt), asc(generations.id))
      .limit(EXPORT_PAGE)
      .all();
    if (page.length === 0) return;
    yield page;
    const last = page[page.length - 1];
    if (!last || page.length < EXPORT_PAGE) return;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

async function* auditPages(s: Services, userId: string): AsyncGenerator<Record<string, unknown>[]> {
  let seq = 0;
  for (;;) {
    const rows = await s.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, userId), gt(auditLog.seq, seq)))
      .orderBy(asc(auditLog.seq))
      .limit(EXPORT_PAGE * 5)
      .all();
    if (rows.length === 0) return;
    yield (await openAuditRows(s, rows)).map((r) => ({ ...r, at: iso(r.at), detail: parseJson(r.detail) }));
    const last = rows[rows.length - 1];
    if (!last) return;
    seq = last.seq;
  }
}

async function* tablePages<T>(fetchPage: (offset: number) => Promise<T[]>): AsyncGenerator<T[]> {
  for (let offset = 0; ; offset += EXPORT_PAGE) {
    const rows = await fetchPage(offset);
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < EXPORT_PAGE) return;
  }
}

async function* decrypted(s: Services, userId: string, objectId: string): AsyncGenerator<Uint8Array> {
  const got = await getObject(s, userId, objectId);
  if (!got) throw new ExportError(`object vanished during export`);
  yield got.bytes;
}

class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportError";
  }
}

// ------------------------------------------------------------------ reads (I/O)

type ApiKeyExport = Pick<typeof apiKeys.$inferSelect, "id" | "name" | "prefix" | "scopes" | "createdAt" | "expiresAt" | "lastUsedAt" | "revokedAt">;

/** The user's API keys, names opened; the secret hash is never selected. */
async function readApiKeys(s: Services, userId: string): Promise<ApiKeyExport[]> {
  const rows = await s.db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      scopes: apiKeys.scopes,
      createdAt: apiKeys.createdAt,
      expiresAt: apiKeys.expiresAt,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.userId, userId))
    .all();
  return Promise.all(rows.map(async (k) => ({ ...k, name: (await openApiKeyRow(s, { ...k, userId })).name })));
}

/** One page of generations with the output and parent-photo rows it needs. */
async function readGenerationObjects(s: Services, userId: string, page: GenerationRow[]): Promise<{ outputs: ObjectRow[]; photoById: Map<string, ObjectRow> }> {
  const outputs = await outputsQuery(s, userId, page.map((g) => g.id)).all();
  const photoIds = page.flatMap((g) => [g.motherPhotoId, g.fatherPhotoId]).filter((x): x is string => Boolean(x));
  const photos: ObjectRow[] = photoIds.length
    ? await s.db
        .select()
        .from(objects)
        .where(and(eq(objects.userId, userId), eq(objects.kind, "photo"), inArray(objects.id, photoIds)))
        .all()
    : [];
  return { outputs, photoById: new Map(photos.map((p) => [p.id, p])) };
}

function ledgerPages(s: Services, userId: string): AsyncGenerator<Record<string, unknown>[]> {
  return tablePages((offset) =>
    s.db
      .select({ id: ledger.id, delta: ledger.delta, reason: ledger.reason, reference: ledger.reference, createdAt: ledger.createdAt })
      .from(ledger)
      .where(eq(ledger.userId, userId))
      .orderBy(asc(ledger.createdAt), asc(ledger.id))
      .limit(EXPORT_PAGE)
      .offset(offset)
      .all(),
  );
}

// ------------------------------------------------------------------ documents (pure)

function accountDocument(user: typeof users.$inferSelect, keys: ApiKeyExport[], credits: number): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    createdAt: iso(user.createdAt),
    settings: { keepPhotosDays: user.keepPhotosDays },
    consent: user.consentVersion ? { termsVersion: user.consentVersion, at: iso(user.consentAt) } : null,
    supportAccessUntil: iso(user.supportAccessUntil),
    credits,
    apiKeys: keys.map((k) => ({
      ...k,
      scopes: parseJson(k.scopes),
      createdAt: iso(k.createdAt),
      expiresAt: iso(k.expiresAt),
      lastUsedAt: iso(k.lastUsedAt),
      revokedAt: iso(k.revokedAt),
    })),
    identityProvider: { note: "Your sign-in identity (email, sessions) is held by Clerk; export it from your Clerk profile." },
  };
}

interface GenerationFiles {
  dir: string;
  inputs: { role: string; objectId: string; file: string }[];
  outs: { row: ObjectRow; file: string }[];
}

/**
 * Policy: which files one generation contributes. A parent photo goes in
 * only while it is still stored (retention may have deleted it); outputs are
 * numbered in id order.
 */
function generationFiles(g: GenerationRow, photoById: Map<string, ObjectRow>, outputs: ObjectRow[]): GenerationFiles {
  const dir = `generations/${g.id}`;
  const inputs: GenerationFiles["inputs"] = [];
  for (const [role, id] of [
    ["mother", g.motherPhotoId],
    ["father", g.fatherPhotoId],
  ] as const) {
    const p = id ? photoById.get(id) : undefined;
    if (!p) continue;
    inputs.push({ role, objectId: p.id, file: `${dir}/input-${role}.${extFor(p.contentType)}` });
  }
  const outs = outputs.filter((o) => o.generationId === g.id).map((o, i) => ({ row: o, file: `${dir}/output-${i + 1}.${extFor(o.contentType)}` }));
  return { dir, inputs, outs };
}

function generationDocument(g: GenerationRow, files: GenerationFiles, options: unknown, preview: boolean): Record<string, unknown> {
  const { inputs, outs } = files;
  return {
    id: g.id,
    status: g.status,
    stage: g.stage,
    model: shownModel(g.model, preview),
    // A local stand-in's images carry their label here too (issue 19 item 2).
    ...(preview ? { preview: true, label: LOCAL_PREVIEW_LABEL } : {}),
    options,
    cost: g.cost,
    error: g.errorCode ? { code: g.errorCode, message: g.errorMessage } : null,
    createdAt: iso(g.createdAt),
    submittedAt: iso(g.submittedAt),
    completedAt: iso(g.completedAt),
    inputs,
    outputs: outs.map((o) => ({ objectId: o.row.id, file: o.file, contentType: o.row.contentType, width: o.row.width, height: o.row.height })),
    parentPhotosNote: inputs.length < 2 ? "Parent photos not included were already deleted by your retention setting or by you." : null,
  };
}

// ------------------------------------------------------------------ sections (files, in order)

/** `generations/<id>/...` for every generation, page by page; returns the parent photos it wrote. */
async function* generationsSection(
  s: Services,
  userId: string,
  zip: ZipBuilder,
  progress: { total: number; onProgress: (done: number, total: number) => Promise<void> },
): AsyncGenerator<Uint8Array, Set<string>> {
  const preview = isLocalPreview(s.config);
  const usedPhotos = new Set<string>();
  let done = 0;
  for await (const page of generationPages(s, userId)) {
    const { outputs, photoById } = await readGenerationObjects(s, userId, page);
    for (const g of page) {
      const files = generationFiles(g, photoById, outputs);
      for (const input of files.inputs) usedPhotos.add(input.objectId);
      yield* zip.file(`${files.dir}/metadata.json`, jsonFile(generationDocument(g, files, await parseOptions(s, g), preview)), true);
      for (const input of files.inputs) yield* zip.file(input.file, decrypted(s, userId, input.objectId), false);
      for (const o of files.outs) yield* zip.file(o.file, decrypted(s, userId, o.row.id), false);
      done++;
      await progress.onProgress(done, progress.total);
    }
  }
  return usedPhotos;
}

/** Uploads not (or no longer) attached to any generation. */
async function* loosePhotosSection(s: Services, userId: string, zip: ZipBuilder, usedPhotos: Set<string>): AsyncGenerator<Uint8Array> {
  const loose = await s.db
    .select()
    .from(objects)
    .where(and(eq(objects.userId, userId), eq(objects.kind, "photo")))
    .orderBy(asc(objects.createdAt))
    .all();
  for (const p of loose) {
    if (usedPhotos.has(p.id)) continue;
    yield* zip.file(`photos/${p.id}.${extFor(p.contentType)}`, decrypted(s, userId, p.id), false);
  }
}

/**
 * Signs the head as it is now, then ships every checkpoint (and the public
 * keys) with the entries, so `npm run audit:verify -- --export` can check
 * them offline and a later rewrite of these entries shows (docs/audit-log.md).
 */
async function* auditSection(s: Services, userId: string, zip: ZipBuilder): AsyncGenerator<Uint8Array> {
  await makeCheckpoint(s, userId, "export");
  yield* zip.file(
    "checkpoints.json",
    jsonFile({
      about:
        "Ed25519 signatures by BabyPic over your activity log's head; each signs the UTF-8 bytes of " +
        "babypic-audit-checkpoint/v1|<userId>|<seq>|<head>|<time>. Compare keys with GET /v1/audit/keys; see docs/audit-log.md.",
      keys: publicAuditKeys(s.config.AUDIT_SIGNING_KEYS),
      checkpoints: await allCheckpoints(s.db, userId),
    }),
    true,
  );
  yield* zip.file("audit-log.json", jsonArrayFile("entries", auditPages(s, userId), { verification: "Each entry's hash is SHA-256 over the entry as stored (ipPrefix, userAgent and detail in their stored, sealed form: `stored`) and prevHash; the readable values are their decryption. See docs/audit-log.md." }), true);
}

async function* paymentsSection(s: Services, userId: string, zip: ZipBuilder): AsyncGenerator<Uint8Array> {
  const pays = await s.db.select().from(payments).where(eq(payments.userId, userId)).orderBy(asc(payments.createdAt)).all();
  yield* zip.file(
    "payments.json",
    jsonArrayFile("ledger", ledgerPages(s, userId), {
      note: "Card data never reaches BabyPic; Creem, the merchant of record, holds it. Balance = sum of the ledger.",
      payments: pays.map(({ userId: _owner, ...p }) => ({ ...p, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) })),
    }),
    true,
  );
}

function privacyDocument(s: Services): Record<string, unknown> {
  return {
    ...privacyFacts(s.config.SIGNED_URL_TTL_SECONDS, whoWeAre(s.config)),
    about:
      "This archive answers your right of access (GDPR Art. 15) and to data portability (Art. 20): the purposes, recipients (sub-processors), " +
      "retention periods and your rights are listed here; the files hold a copy of all personal data we keep about you.",
  };
}

/** Every file of the archive, in order, for one user only (every query is scoped by user id). */
async function* archive(s: Services, exp: ExportRow, zip: ZipBuilder, onProgress: (done: number, total: number) => Promise<void>): AsyncGenerator<Uint8Array> {
  const userId = exp.userId;
  const userRow = await s.db.select().from(users).where(eq(users.id, userId)).get();
  if (!userRow) throw new ExportError("user gone");
  const user = await openUserFields(s, userRow);
  const keys = await readApiKeys(s, userId);
  yield* zip.file("account.json", jsonFile(accountDocument(user, keys, await balanceOf(s.db, userId))), true);

  const totals = await s.db
    .select({ n: sql<number>`count(*)` })
    .from(generations)
    .where(eq(generations.userId, userId))
    .get();
  const total = Number(totals?.n ?? 0) + 1;
  const usedPhotos = yield* generationsSection(s, userId, zip, { total, onProgress });
  yield* loosePhotosSection(s, userId, zip, usedPhotos);
  yield* auditSection(s, userId, zip);
  yield* paymentsSection(s, userId, zip);
  yield* zip.file("privacy.json", jsonFile(privacyDocument(s)), true);
  yield* zip.file(
    "manifest.json",
    jsonFile({
      schemaVersion: EXPORT_SCHEMA_VERSION,
      format: "babypic-export",
      exportId: exp.id,
      userId,
      createdAt: iso(s.now()),
      hashAlgorithm: "SHA-256",
      files: zip.manifest,
    }),
    true,
  );
  yield* zip.end();
  await onProgress(total, total);
}

/**
 * The `export.build` job. Idempotent: a redelivered message for an export
 * already ready (or gone) does nothing. On the dead-letter queue it marks the
 * export failed. If the export or the account was deleted while building, the
 * ZIP just written is deleted again.
 */
export async function buildExport(s: Services, exportId: string, ctx: { deadLetter: boolean } = { deadLetter: false }): Promise<void> {
  const exp = await s.db.select().from(exportsTable).where(eq(exportsTable.id, exportId)).get();
  if (!exp || exp.status === "ready" || exp.status === "failed") return;
  if (ctx.deadLetter) {
    await s.db.update(exportsTable).set({ status: "failed", error: "build_failed" }).where(eq(exportsTable.id, exp.id));
    return;
  }
  if (await isBeingDeleted(s, { userId: exp.userId })) return;
  await s.db.update(exportsTable).set({ status: "building", progress: 0 }).where(eq(exportsTable.id, exp.id));
  await appendAudit(s.db, systemReadEvent("export.build", exp.userId, { type: "export", id: exp.id }), s.now());

  let lastPct = -1;
  const onProgress = async (done: number, total: number) => {
    // The last few percent are the upload; "ready" means 100.
    const pct = Math.min(95, Math.floor((done / Math.max(1, total)) * 95));
    if (pct === lastPct) return;
    lastPct = pct;
    await s.db.update(exportsTable).set({ progress: pct }).where(and(eq(exportsTable.id, exp.id), eq(exportsTable.status, "building")));
  };

  const zip = new ZipBuilder();
  const stored = await putObject(s, {
    userId: exp.userId,
    kind: "export",
    contentType: "application/zip",
    bytes: streamOf(archive(s, exp, zip, onProgress)),
  });
  const now = s.now();
  const [ready] = await s.db
    .update(exportsTable)
    .set({ status: "ready", progress: 100, objectId: stored.id, completedAt: now, expiresAt: now + RETENTION.exportTtlMs })
    .where(and(eq(exportsTable.id, exp.id), eq(exportsTable.status, "building")))
    .returning({ id: exportsTable.id });
  if (!ready || (await isBeingDeleted(s, { userId: exp.userId }))) {
    await deleteObjects(s, exp.userId, [stored.id]);
    // putObject makes a data key if none exists: if the account was erased
    // meanwhile, that key must not outlive it either.
    const owner = await s.db.select({ id: users.id }).from(users).where(eq(users.id, exp.userId)).get();
    if (!owner || (await isBeingDeleted(s, { userId: exp.userId }))) await shredUserKey(s, exp.userId);
    return;
  }
  await appendAudit(
    s.db,
    {
      userId: exp.userId,
      actor: SYSTEM,
      action: "export.ready",
      target: { type: "export", id: exp.id },
      detail: { files: zip.manifest.length + 1, bytes: stored.bytes },
    },
    now,
  );
  await emitEvent(s, exp.userId, "export.ready", { exportId: exp.id, status: "ready", expiresAt: new Date(now + RETENTION.exportTtlMs).toISOString() });
  await queueMail(s, { template: "export_ready", ref: exp.id, userId: exp.userId });
}

export { ExportError };
