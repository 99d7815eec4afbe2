/**
 * The identity provider subject of an account being deleted, held in the key
 * bucket (binding KEYS) while the deletion runs (docs/decisions/0022).
 *
 * The deletion shreds the user's DEK first, which makes `users.subject`
 * unreadable, yet its last stage must still name the identity to Clerk
 * (deleting it there). D1 cannot hold the subject meanwhile: Time Travel
 * would keep it for 30 days after the deletion. The key bucket is never
 * backed up and has no point-in-time restore (decision 0011), so the subject
 * is wrapped under the current KEK at `deletions/<userId>` there and the file
 * is deleted before the deletion's last batch; afterwards no copy names it.
 *
 *   file = {"v":1,"kek":"<kid>","iv":b64url(12),"ct":b64url(AES-256-GCM(KEK, iv, utf8(subject), aad))}
 *   aad  = "babypic-deletion-subject|v1|<userId>|<kid>"
 */
import { z } from "zod";
import { base64Decode, base64UrlDecode, base64UrlEncode, utf8 } from "../../lib/bytes";
import { logger } from "../../lib/log";
import type { Services } from "../types";

export const deletionSubjectPath = (userId: string): string => `deletions/${userId}`;

const HeldSubjectSchema = z.object({
  v: z.literal(1),
  kek: z.string().min(1).max(64),
  iv: z.string().regex(/^[A-Za-z0-9_-]{16}$/),
  ct: z.string().regex(/^[A-Za-z0-9_-]+$/),
});

const aad = (userId: string, kid: string): Uint8Array<ArrayBuffer> => utf8(`babypic-deletion-subject|v1|${userId}|${kid}`);

function kek(s: Services, kid: string): Promise<CryptoKey> | null {
  const raw = s.config.MASTER_KEYS.keys[kid];
  return raw ? crypto.subtle.importKey("raw", base64Decode(raw), "AES-GCM", false, ["encrypt", "decrypt"]) : null;
}

/** Writes the held subject (overwriting an earlier copy of the same deletion). */
export async function holdDeletionSubject(s: Services, userId: string, subject: string): Promise<void> {
  const kid = s.config.MASTER_KEYS.current;
  const key = await kek(s, kid);
  if (!key) throw new Error("MASTER_KEYS has no current key");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(userId, kid) }, key, utf8(subject)));
  const file = { v: 1, kek: kid, iv: base64UrlEncode(iv), ct: base64UrlEncode(ct) };
  await s.env.KEYS.put(deletionSubjectPath(userId), JSON.stringify(file), { httpMetadata: { contentType: "application/json" } });
}

/** The held subject; null when none is held (released, or never written) or it cannot be opened (logged, no value). */
export async function heldDeletionSubject(s: Services, userId: string): Promise<string | null> {
  const obj = await s.env.KEYS.get(deletionSubjectPath(userId));
  if (!obj) return null;
  try {
    const file = HeldSubjectSchema.parse(JSON.parse(await obj.text()));
    const key = await kek(s, file.kek);
    if (!key) throw new Error("unknown KEK");
    const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: base64UrlDecode(file.iv), additionalData: aad(userId, file.kek) }, key, base64UrlDecode(file.ct));
    return new TextDecoder().decode(pt);
  } catch {
    logger.error("deletion.subject_unreadable");
    return null;
  }
}

/** Deletes the held subject (idempotent). */
export async function releaseDeletionSubject(s: Services, userId: string): Promise<void> {
  await s.env.KEYS.delete(deletionSubjectPath(userId));
}
