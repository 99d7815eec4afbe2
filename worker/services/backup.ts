/**
 * Backups of the data bucket (docs/runbooks/backups.md, docs/decisions/0011).
 *
 * The cron copies the encrypted objects (`u/…`) of the data bucket into the
 * backup bucket (binding BACKUP) under the same keys, in bounded runs. A pass
 * walks the data bucket's listing in key order, from where the last run
 * stopped (`_backup/state.json` in the backup bucket), beside the backup
 * bucket's own listing of the same key range: an object is copied when it has
 * no copy yet, when its etag differs from the one its copy was made from (new
 * or changed), or when its copy is older than ⌊N/2⌋ days, so a file that still
 * exists always has a copy younger than N days. Copies older than N days
 * (N = BACKUP_RETENTION_DAYS) are deleted by the bucket's lifecycle rule and,
 * as a backstop, by this job.
 *
 * What a backup never holds: the wrapped data keys. They live in the key
 * bucket (KEYS), which nothing copies, so destroying a user's key makes their
 * backup copies unreadable at once. D1's own backup is Time Travel.
 */
import { z } from "zod";
import { logger } from "../lib/log";
import { userDataKey } from "./crypto/keys";
import { HEADER_LENGTH, TAG_LENGTH, SegmentCipher, parseHeader, plaintextLengthOf, segmentCount, type ObjectKind } from "./crypto/segmented";
import type { Services } from "./types";

export const BACKUP_STATE_KEY = "_backup/state.json";
/** Only encrypted user objects are backed up; `keys/` (legacy key files) and `dev/` never are. */
export const BACKUP_PREFIX = "u/";
const DAY_MS = 86_400_000;

const StateSchema = z.object({
  v: z.literal(2),
  /** The last key a pass has dealt with; null: the next run starts a new pass. */
  lastKey: z.string().nullable(),
  passStartedAt: z.number().nullable(),
  /** When the last complete pass began: everything that existed then has a copy. */
  lastPassStartedAt: z.number().nullable(),
  /** Where the expiry walk over the backup bucket resumes. */
  expiryCursor: z.string().nullable(),
});
export type BackupState = z.infer<typeof StateSchema>;

const EMPTY: BackupState = { v: 2, lastKey: null, passStartedAt: null, lastPassStartedAt: null, expiryCursor: null };

export async function readBackupState(bucket: R2Bucket): Promise<BackupState> {
  const obj = await bucket.get(BACKUP_STATE_KEY);
  if (!obj) return { ...EMPTY };
  try {
    const parsed = StateSchema.safeParse(JSON.parse(await obj.text()));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through: a damaged state starts a new pass, which is always safe
  }
  return { ...EMPTY };
}

async function writeState(bucket: R2Bucket, state: BackupState): Promise<void> {
  await bucket.put(BACKUP_STATE_KEY, JSON.stringify(state), { httpMetadata: { contentType: "application/json" } });
}

export interface BackupRun {
  /** Objects of the data bucket looked at this run. */
  checked: number;
  /** Of those, copied (new, changed, or their copy due for refresh). */
  copied: number;
  /** Backup copies deleted because they were older than N days. */
  expired: number;
  /** This run finished a pass: every object that existed when the pass began has a copy. */
  passComplete: boolean;
}

interface CopyInfo {
  sourceEtag: string | undefined;
  backedUpAt: number;
}

/** The backup bucket's copies of keys in (after, upTo], from its listing (no per-object reads). */
async function copiesBetween(s: Services, after: string | null, upTo: string): Promise<Map<string, CopyInfo>> {
  const out = new Map<string, CopyInfo>();
  let from = after;
  for (;;) {
    const page = await s.env.BACKUP.list({ prefix: BACKUP_PREFIX, limit: 1000, include: ["customMetadata"], ...(from ? { startAfter: from } : {}) });
    for (const o of page.objects) {
      if (o.key > upTo) return out;
      out.set(o.key, { sourceEtag: o.customMetadata?.["sourceEtag"], backedUpAt: Number(o.customMetadata?.["backedUpAt"] ?? o.uploaded.getTime()) });
    }
    const last = page.objects.at(-1)?.key;
    if (!page.truncated || !last) return out;
    from = last;
  }
}

/**
 * One bounded backup run: at most `maxObjects` objects of the data bucket
 * looked at (and copied if needed), then at most `maxObjects` backup copies
 * checked for expiry. Progress is saved after every page, so an interrupted
 * run loses nothing and the next one carries on.
 */
export async function runBackup(s: Services, opts: { maxObjects?: number } = {}): Promise<BackupRun> {
  const max = opts.maxObjects ?? 1000;
  const days = s.config.BACKUP_RETENTION_DAYS;
  const refreshBefore = s.now() - Math.floor(days / 2) * DAY_MS;
  const state = await readBackupState(s.env.BACKUP);
  const now = s.now();
  state.passStartedAt ??= now;
  let checked = 0;
  let copied = 0;
  let passComplete = false;
  while (checked < max) {
    const page = await s.env.BUCKET.list({ prefix: BACKUP_PREFIX, limit: Math.min(500, max - checked), ...(state.lastKey ? { startAfter: state.lastKey } : {}) });
    const last = page.objects.at(-1)?.key;
    const copies = last ? await copiesBetween(s, state.lastKey, last) : new Map<string, CopyInfo>();
    for (const o of page.objects) {
      checked++;
      const copy = copies.get(o.key);
      if (copy && copy.sourceEtag === o.etag && copy.backedUpAt >= refreshBefore) continue;
      if (await copyObject(s, o.key, now)) copied++;
    }
    if (last) state.lastKey = last;
    if (!page.truncated) {
      passComplete = true;
      state.lastPassStartedAt = state.passStartedAt;
      state.lastKey = null;
      state.passStartedAt = null;
    }
    await writeState(s.env.BACKUP, state);
    if (passComplete) break;
  }
  const expired = await expireBackups(s, state, now - days * DAY_MS, max);
  logger.info("backup.run", { checked, copied, expired, passComplete });
  return { checked, copied, expired, passComplete };
}

/** Copies one object into the backup bucket, stamping when; false if it vanished meanwhile. */
async function copyObject(s: Services, key: string, now: number): Promise<boolean> {
  const src = await s.env.BUCKET.get(key);
  if (!src) return false;
  await s.env.BACKUP.put(key, await src.arrayBuffer(), {
    httpMetadata: src.httpMetadata ?? {},
    customMetadata: { ...src.customMetadata, sourceEtag: src.etag, backedUpAt: String(now) },
  });
  return true;
}

/** Deletes backup copies made before `cutoff`, walking the backup bucket from a saved cursor. */
async function expireBackups(s: Services, state: BackupState, cutoff: number, max: number): Promise<number> {
  let seen = 0;
  let expired = 0;
  while (seen < max) {
    const page = await s.env.BACKUP.list({
      prefix: BACKUP_PREFIX,
      limit: Math.min(500, max - seen),
      include: ["customMetadata"],
      ...(state.expiryCursor ? { cursor: state.expiryCursor } : {}),
    });
    seen += page.objects.length;
    const old = page.objects.filter((o) => Number(o.customMetadata?.["backedUpAt"] ?? o.uploaded.getTime()) < cutoff).map((o) => o.key);
    for (let i = 0; i < old.length; i += 1000) await s.env.BACKUP.delete(old.slice(i, i + 1000));
    expired += old.length;
    state.expiryCursor = page.truncated ? page.cursor : null;
    await writeState(s.env.BACKUP, state);
    if (!page.truncated) break;
  }
  return expired;
}

/**
 * Takes a backup now, the way the cron does (`npm run ops:backup`): finishes
 * the pass under way, if any, then runs one whole new pass.
 */
export async function backupNow(s: Services, maxRuns = 10_000): Promise<{ runs: number; copied: number; checked: number; expired: number }> {
  const total = { runs: 0, copied: 0, checked: 0, expired: 0 };
  let newPassDone = false;
  let startedFresh = (await readBackupState(s.env.BACKUP)).lastKey === null;
  while (!newPassDone && total.runs < maxRuns) {
    const run = await runBackup(s);
    total.runs++;
    total.copied += run.copied;
    total.checked += run.checked;
    total.expired += run.expired;
    if (run.passComplete) {
      if (startedFresh) newPassDone = true;
      else startedFresh = true;
    }
  }
  return total;
}

// ------------------------------------------------------------ restore drill

const OBJECT_KEY = /^u\/([A-Za-z0-9_-]{1,80})\/(photo|output|export)\/([A-Za-z0-9_-]{1,80})$/;

/** The owner, kind and id an object key names (`u/<userId>/<kind>/<id>`, docs/storage-format.md §3); null for anything else. */
export function parseObjectKey(key: string): { userId: string; kind: ObjectKind; objectId: string } | null {
  const m = OBJECT_KEY.exec(key);
  if (!m?.[1] || !m[2] || !m[3]) return null;
  return { userId: m[1], kind: m[2] as ObjectKind, objectId: m[3] };
}

/**
 * Decrypts a stored object from its bytes and key alone (no D1 row: a restore
 * has none to trust), with the owner's data key from the key bucket. Throws
 * when the key is gone (shredded) or the bytes do not authenticate.
 */
export async function decryptStoredObject(s: Services, key: string, stored: Uint8Array): Promise<Uint8Array> {
  const ref = parseObjectKey(key);
  if (!ref) throw new Error("not an object key");
  const dek = await userDataKey(s, ref.userId, { create: false });
  if (!dek) throw new Error("no data key");
  const cipher = await SegmentCipher.create(dek, ref, parseHeader(stored.subarray(0, HEADER_LENGTH)));
  const plainLength = plaintextLengthOf(stored.length, cipher.header.segmentShift);
  if (plainLength === null) throw new Error("impossible stored length");
  const size = cipher.segmentSize;
  const n = segmentCount(plainLength, size);
  const out = new Uint8Array(plainLength);
  for (let i = 0; i < n; i++) {
    const start = HEADER_LENGTH + i * (size + TAG_LENGTH);
    out.set(await cipher.open(stored.subarray(start, Math.min(start + size + TAG_LENGTH, stored.length)), i, i === n - 1), i * size);
  }
  return out;
}

/** Copies every backed-up object into `target` (a scratch bucket); returns how many. */
export async function restoreBackup(backup: R2Bucket, target: R2Bucket): Promise<number> {
  let cursor: string | undefined;
  let restored = 0;
  for (;;) {
    const page = await backup.list({ prefix: BACKUP_PREFIX, limit: 500, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      const obj = await backup.get(o.key);
      if (!obj) continue;
      await target.put(o.key, await obj.arrayBuffer(), { httpMetadata: obj.httpMetadata ?? {}, customMetadata: obj.customMetadata ?? {} });
      restored++;
    }
    if (!page.truncated) return restored;
    cursor = page.cursor;
  }
}

export interface DrillUser {
  id: string;
  objects: number;
  decrypted: number;
}

/**
 * Tries to decrypt every object in `restored` (a bucket a backup was restored
 * into) with every secret the service has: MASTER_KEYS and the key bucket.
 * Per user: how many objects, how many decrypted. Never logs an object's bytes.
 */
export async function restoreDrill(s: Services, restored: R2Bucket): Promise<{ users: DrillUser[] }> {
  const users = new Map<string, DrillUser>();
  let cursor: string | undefined;
  for (;;) {
    const page = await restored.list({ prefix: BACKUP_PREFIX, limit: 500, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      const ref = parseObjectKey(o.key);
      if (!ref) continue;
      const u = users.get(ref.userId) ?? { id: ref.userId, objects: 0, decrypted: 0 };
      users.set(ref.userId, u);
      u.objects++;
      const obj = await restored.get(o.key);
      if (!obj) continue;
      try {
        await decryptStoredObject(s, o.key, new Uint8Array(await obj.arrayBuffer()));
        u.decrypted++;
      } catch {
        // unreadable: the point of the drill is to count these
      }
    }
    if (!page.truncated) break;
    cursor = page.cursor;
  }
  return { users: [...users.values()].sort((a, b) => a.id.localeCompare(b.id)) };
}
