/** Rows for tests, written straight to D1 (no upload or model run needed). */
import { eq } from "drizzle-orm";
import { generateApiKeySecret, hashApiKey } from "../../worker/auth/api-keys";
import type { Scope } from "../../worker/auth/types";
import { apiKeys, auditLog, generations, objects } from "../../worker/db/schema";
import { newId } from "../../worker/lib/ids";
import { openAuditRows, sealAudit, type AuditEvent, type AuditRow } from "../../worker/services/audit";
import { services } from "../helpers";

/** Creates an API key row (stored as its SHA-256, as the app does) and returns the secret. */
export async function insertApiKey(userId: string, scopes: readonly Scope[], opts: { expiresAt?: number | null } = {}): Promise<{ id: string; secret: string }> {
  const secret = generateApiKeySecret();
  const id = newId("key");
  await services()
    .db.insert(apiKeys)
    .values({
      id,
      userId,
      name: "test key",
      prefix: secret.slice(0, 11),
      hash: await hashApiKey(secret),
      scopes: JSON.stringify(scopes),
      createdAt: Date.now(),
      expiresAt: opts.expiresAt ?? null,
    });
  return { id, secret };
}

/**
 * A generations row for `userId` with what every row needs filled in (a new
 * id, one credit, a test model, created now, due in ten minutes, `queued`);
 * `row` sets the rest. Returns the id.
 */
export async function insertGenerationRow(row: Partial<typeof generations.$inferInsert> & { userId: string }): Promise<string> {
  const id = newId("gen");
  const now = Date.now();
  await services()
    .db.insert(generations)
    .values({
      id,
      options: "{}",
      status: "queued",
      stage: "queued",
      model: "test/model",
      cost: 1,
      idempotencyKey: newId("req"),
      requestHash: "0".repeat(64),
      createdAt: now,
      deadlineAt: now + 600_000,
      ...row,
    });
  return id;
}

export async function insertGeneration(userId: string, status: "queued" | "submitted" | "completed" | "failed" | "canceled" = "completed"): Promise<string> {
  const now = Date.now();
  return insertGenerationRow({
    userId,
    options: JSON.stringify({ gender: "girl", ageGroup: "baby", images: 1 }),
    status,
    stage: status,
    createdAt: now,
    completedAt: status === "completed" ? now : null,
  });
}

/** An objects row without bytes in R2: enough for metadata listings and link signing. */
export async function insertObjectRow(userId: string, kind: "photo" | "output", generationId: string | null = null): Promise<string> {
  const id = newId(kind === "photo" ? "pho" : "img");
  await services()
    .db.insert(objects)
    .values({
      id,
      userId,
      kind,
      r2Key: `u/${userId}/${kind}/${id}`,
      contentType: "image/jpeg",
      bytes: 1234,
      width: 512,
      height: 512,
      generationId,
      createdAt: Date.now(),
    });
  return id;
}

/** The user's audit entries, oldest first, with their sealed fields opened (as the owner sees them). */
export async function auditRows(userId: string): Promise<AuditRow[]> {
  const s = services();
  await sealAudit(s.db, userId);
  return openAuditRows(s, await s.db.select().from(auditLog).where(eq(auditLog.userId, userId)).orderBy(auditLog.seq).all());
}

/** A user id no other test uses, so a chain starts empty: `usr_<prefix>_<random>`. */
export const freshUserId = (prefix: string): string => `usr_${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;

/** The i-th event of a user's chain in the audit-append tests: the user opened image `img_<i>` through a link. */
export const linkUsedEvent = (userId: string, i: number): AuditEvent => ({
  userId,
  actor: { type: "user", id: userId },
  action: "link.used",
  target: { type: "object", id: `img_${i}` },
  meta: { requestId: `req_${i}`, ipPrefix: "203.0.113.0/24", userAgent: "test" },
});
