/**
 * `/v1/account/...`: the user's own account data. This file holds the audit
 * log reader; account exports and account deletion register their routes on
 * the same `accountRoutes` router (each with its own `use(path, requireAuth)`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { base64UrlDecode, base64UrlEncode, utf8 } from "../lib/bytes";
import { createRouter } from "../lib/router";
import { requestMeta } from "../lib/request-meta";
import { requireAuth } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { authErrors, badRequest, bearerSecurity, PageQuery } from "../schemas/common";
import { userDataKey } from "../services/crypto/keys";
import { auditActor, openAuditRows, pageAudit, recordAudit, sealAudit, type AuditRow, type OpenedAuditRow } from "../services/audit";

export const accountRoutes = createRouter();

const ActorSchema = z
  .object({
    type: z.enum(["user", "api_key", "system", "support"]),
    id: z.string().nullable().openapi({ description: "User id, API key id, or support staff user id; null for system and link holders." }),
    reason: z.string().nullable().openapi({ description: "For support access: the reason the staff member stated." }),
  })
  .openapi("AuditActor");

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    seq: z.number().int().openapi({ description: "Position in this user's hash chain, from 1." }),
    at: z.string().openapi({ example: "2026-11-27T06:00:00.000Z" }),
    actor: ActorSchema,
    action: z.string().openapi({ example: "link.used" }),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    requestId: z.string().nullable(),
    ipPrefix: z.string().nullable().openapi({ description: "Client IP truncated to /24 (IPv4) or /48 (IPv6).", example: "203.0.113.0/24" }),
    userAgent: z.string().nullable(),
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
    summary: z.string().openapi({ example: "Support viewed your account summary because: ticket 4411, login trouble" }),
    stored: z
      .object({
        ipPrefix: z.string().nullable(),
        userAgent: z.string().nullable(),
        detail: z.string().nullable(),
      })
      .openapi("AuditStoredFields", {
        description:
          "ipPrefix, userAgent and detail exactly as stored: sealed under your data key (`bpf1.…`, docs/storage-format.md §6) or, for entries written before sealing, plain text. " +
          "`hash` covers these stored forms, not the readable values above; the readable values are their decryption (AES-GCM bound to this entry and column). See docs/audit-log.md.",
      }),
    prevHash: z.string(),
    hash: z.string().openapi({ description: "SHA-256 over this entry and prevHash; see docs/audit-log.md." }),
  })
  .openapi("AuditEntry");

const AuditPageSchema = z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }).openapi("AuditPage");

const CURSOR_PREFIX = "audit:";

export function encodeAuditCursor(seq: number): string {
  return base64UrlEncode(utf8(`${CURSOR_PREFIX}${seq}`));
}

function decodeAuditCursor(cursor: string): number {
  let text: string;
  try {
    text = new TextDecoder().decode(base64UrlDecode(cursor));
  } catch {
    text = "";
  }
  const m = /^audit:(\d{1,12})$/.exec(text);
  const seq = m?.[1] ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new AppError("validation_failed", "The query has invalid fields.", { errors: [{ field: "cursor", message: "not a cursor from nextCursor" }] });
  }
  return seq;
}

const DetailSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

function parseDetail(raw: string | null): z.infer<typeof DetailSchema> | null {
  if (raw === null) return null;
  try {
    const parsed = DetailSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const WHAT: Record<string, string> = {
  "account.created": "created your account",
  "account.viewed": "viewed your account",
  "account.deleted": "deleted your account",
  "consent.given": "gave consent",
  "consent.withdrawn": "withdrew consent",
  "settings.changed": "changed your settings",
  "photo.uploaded": "uploaded a photo",
  "photo.listed": "listed your photos",
  "photo.viewed": "viewed a photo",
  "photo.deleted": "deleted a photo",
  "generation.created": "started a generation",
  "generation.listed": "listed your generations",
  "generation.viewed": "viewed a generation",
  "generation.completed": "completed a generation",
  "generation.failed": "recorded a failed generation",
  "generation.deleted": "deleted a generation",
  "link.issued": "issued a private link to an image",
  "link.used": "opened a private link to an image",
  "file.downloaded": "downloaded a file",
  "export.requested": "requested a data export",
  "export.ready": "finished your data export",
  "export.downloaded": "downloaded your data export",
  "export.deleted": "deleted a data export",
  "audit.viewed": "viewed your activity log",
  "api_key.created": "created an API key",
  "api_key.revoked": "revoked an API key",
  "api_key.used": "used an API key",
  "billing.checkout": "started a checkout",
  "billing.credited": "added credits",
  "billing.reversed": "reversed a payment",
  "support.grant_changed": "changed support access",
  "retention.deleted": "deleted data under the retention policy",
  "data.read": "read your data",
  "operator.action": "acted on your account",
  "notice.sent": "sent you a notice",
};

/** One readable line per entry, so every client shows support access the same way. */
export function describeAuditEntry(row: AuditRow, detail: Record<string, unknown> | null): string {
  const reason = typeof detail?.["reason"] === "string" ? detail["reason"] : null;
  if (row.action === "support.grant_changed") {
    const until = typeof detail?.["until"] === "string" ? detail["until"] : null;
    // Support sessions (decision 0019): one generation's pictures, or a session the user ended.
    const item = typeof detail?.["item"] === "string" ? detail["item"] : null;
    if (item) return until ? `You let support see the pictures of generation ${item} until ${until}` : `You refused support access to the pictures of generation ${item}`;
    if (typeof detail?.["session"] === "string") return `You ended the support session (ticket ${String(detail["ticket"] ?? "")})`;
    const withdrawn = typeof detail?.["withdrawn"] === "number" && detail["withdrawn"] > 0 ? `; ${detail["withdrawn"]} picture request(s) the earlier window allowed are withdrawn` : "";
    return until ? `You let support see your photos and results until ${until}${withdrawn}` : `You revoked support access to your photos and results${withdrawn}`;
  }
  if (row.action === "support.accessed") {
    const viewed = typeof detail?.["viewed"] === "string" ? detail["viewed"] : "your account";
    const refused = detail?.["allowed"] === false ? " (refused: you had not granted access)" : "";
    return `Support viewed ${viewed}${refused} because: ${reason ?? "no reason recorded"}`;
  }
  if (row.action === "data.read" && reason) return `BabyPic: ${reason}`;
  if (row.action === "api_key.used") return `Your API key ${row.actorId ?? ""} called ${row.targetId ?? "the API"}`;
  const who =
    row.actorType === "support"
      ? "Support"
      : row.actorType === "system"
        ? "BabyPic"
        : row.actorType === "api_key"
          ? `Your API key ${row.actorId ?? ""}`
          : row.actorId === null
            ? "Someone with a private link"
            : "You";
  const what = WHAT[row.action] ?? row.action;
  return reason && row.actorType === "support" ? `${who} ${what} because: ${reason}` : `${who} ${what}`;
}

export function presentAuditRow(row: OpenedAuditRow): z.infer<typeof AuditEntrySchema> {
  const detail = parseDetail(row.detail);
  return {
    id: row.id,
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    actor: {
      type: row.actorType,
      id: row.actorId,
      reason: row.actorType === "support" && typeof detail?.["reason"] === "string" ? detail["reason"] : null,
    },
    action: row.action,
    target: row.targetType !== null && row.targetId !== null ? { type: row.targetType, id: row.targetId } : null,
    requestId: row.requestId,
    ipPrefix: row.ipPrefix,
    userAgent: row.userAgent,
    detail,
    summary: describeAuditEntry(row, detail),
    stored: row.stored,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

accountRoutes.use("/account/audit", requireAuth({ scope: "account:read" }), rateLimit("read"));
accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/account/audit",
    tags: ["account"],
    summary: "Your activity log: every access to your data, newest first",
    description:
      "Entries are hash-chained per user (each holds the hash of the previous), so editing or removing one is detectable. " +
      "Reading the log is itself recorded (`audit.viewed`).",
    security: bearerSecurity,
    request: { query: PageQuery },
    responses: {
      200: { description: "A page of entries", content: { "application/json": { schema: AuditPageSchema } } },
      ...badRequest,
      ...authErrors,
    },
  }),
  async (c) => {
    const s = c.get("services");
    const auth = c.get("auth");
    const { limit, cursor } = c.req.valid("query");
    const before = cursor === undefined ? undefined : decodeAuditCursor(cursor);
    // Everything recorded so far is chained first, so the page misses nothing
    // (docs/decisions/0018); the user's data key (to open the entries) loads from R2 meanwhile.
    const [, rows] = await Promise.all([
      userDataKey(s, auth.userId, { create: false }),
      sealAudit(s.db, auth.userId).then(() => pageAudit(s.db, auth.userId, limit + 1, before)),
    ]);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeAuditCursor(last.seq) : null;
    await recordAudit(
      s,
      [
        {
          userId: auth.userId,
          actor: auditActor(auth),
          action: "audit.viewed",
          target: { type: "audit_log", id: auth.userId },
          detail: { count: page.length },
          meta: requestMeta(c.req.raw, c.get("requestId")),
        },
      ],
      s.now(),
    );
    return c.json({ items: (await openAuditRows(s, page)).map(presentAuditRow), nextCursor }, 200);
  },
);
