/**
 * The one source of truth for D1. `npm run db:generate` turns changes here into
 * SQL migrations under migrations/. Rows hold no photo bytes and no keys: D1
 * Time Travel can restore any minute of the last 30 days (see
 * docs/decisions/0002-keys-in-r2.md), so anything secret lives in R2.
 * Columns marked "sealed" hold personal values encrypted under the owner's
 * DEK ("bpf1.…", worker/services/crypto/fields.ts, decision 0012), or plain
 * text written before that until the fields.seal_legacy sweep reaches them.
 * Times are Unix milliseconds.
 */

import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () => integer("created_at").notNull();

export const users = sqliteTable("users", {
  /** Internal random id ("usr_..."): the only user key used anywhere else. */
  id: text("id").primaryKey(),
  /**
   * Keyed lookup of the identity provider subject (Clerk `sub`): "h1.…",
   * HMAC-SHA256 under LOOKUP_HMAC_KEY (services/users.ts, decision 0022). Rows
   * from before that hold the plain subject until the fields.seal_legacy sweep
   * converts them. Never used as a foreign key.
   */
  externalId: text("external_id").notNull().unique(),
  /** Sealed: the subject itself, for calls to the identity provider (mail address, deleting the identity). */
  subject: text("subject"),
  /** Sealed. */
  email: text("email"),
  createdAt: createdAt(),
  /** Days to keep parent photos after their generation finishes: 0, 7 or 30. */
  keepPhotosDays: integer("keep_photos_days").notNull().default(0),
  /** Sealed: the terms version accepted. */
  consentVersion: text("consent_version"),
  consentAt: integer("consent_at"),
  /** Until when support staff may see this user's photos (user-granted). */
  supportAccessUntil: integer("support_access_until"),
});

/** A place in one user's audit chain: an entry of `audit_log`, or the head an `audit_checkpoints` row signs. */
const auditChainPosition = () => ({
  userId: text("user_id").notNull(),
  /** 1-based position in the user's chain. */
  seq: integer("seq").notNull(),
});

/** The columns of one audit event, alike in `audit_log` and `audit_pending` (fresh builders for each table). */
const auditEventColumns = () => ({
  at: integer("at").notNull(),
  actorType: text("actor_type", { enum: ["user", "api_key", "system", "support"] }).notNull(),
  actorId: text("actor_id"),
  action: text("action").notNull(),
  targetType: text("target_type"),
  targetId: text("target_id"),
  requestId: text("request_id"),
  /** Sealed: client IP truncated to /24 (IPv4) or /48 (IPv6). */
  ipPrefix: text("ip_prefix"),
  /** Sealed: the first 200 characters. */
  userAgent: text("user_agent"),
  /** Sealed: JSON object with non-secret details (e.g. support reason). */
  detail: text("detail"),
});

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    ...auditChainPosition(),
    ...auditEventColumns(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [uniqueIndex("audit_user_seq").on(t.userId, t.seq)],
);

/**
 * Audit entries recorded but not yet chained (docs/decisions/0018): a request
 * inserts its entries here before it answers (one insert, no chain head read,
 * no contention), and the sealer (services/audit.ts `sealAudit`, run after the
 * answer and by the cron) moves them into `audit_log` in `n` order, chaining
 * each, in the same transaction that deletes them here. `id` becomes the
 * entry's id (the sealed fields' associated data names it).
 */
export const auditPending = sqliteTable(
  "audit_pending",
  {
    /** Insertion order (SQLite rowid): always above every row still here, so sealing in `n` order keeps each user's entries in the order they were recorded. */
    n: integer("n").primaryKey(),
    id: text("id").notNull().unique(),
    userId: text("user_id").notNull(),
    ...auditEventColumns(),
  },
  (t) => [index("audit_pending_user_n").on(t.userId, t.n)],
);

export const securityLog = sqliteTable(
  "security_log",
  {
    id: text("id").primaryKey(),
    at: integer("at").notNull(),
    kind: text("kind").notNull(),
    ipPrefix: text("ip_prefix"),
    requestId: text("request_id"),
    userId: text("user_id"),
    detail: text("detail"),
  },
  (t) => [index("security_kind_at").on(t.kind, t.at)],
);

/** Every encrypted R2 object we hold: parent photos, generated images, exports. */
export const objects = sqliteTable(
  "objects",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: ["photo", "output", "export"] }).notNull(),
    /** R2 key: `u/<userId>/<kind>/<id>`; opaque, no names. */
    r2Key: text("r2_key").notNull(),
    contentType: text("content_type").notNull(),
    /** Plaintext size in bytes. */
    bytes: integer("bytes").notNull(),
    width: integer("width"),
    height: integer("height"),
    generationId: text("generation_id"),
    /** Client-chosen id bound into the HPKE associated data; unique stops replay. */
    uploadId: text("upload_id").unique(),
    createdAt: createdAt(),
    /** When retention deletes it (null: kept until the user deletes it). */
    expiresAt: integer("expires_at"),
  },
  (t) => [
    index("objects_user_kind").on(t.userId, t.kind, t.createdAt),
    index("objects_generation").on(t.generationId),
    index("objects_expires").on(t.expiresAt),
  ],
);

export const generations = sqliteTable(
  "generations",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    motherPhotoId: text("mother_photo_id"),
    fatherPhotoId: text("father_photo_id"),
    /** Sealed: JSON of the validated options (gender, ageGroup, resemblance, images). */
    options: text("options").notNull(),
    status: text("status", { enum: ["queued", "submitted", "completed", "failed", "canceled"] }).notNull(),
    stage: text("stage").notNull(),
    model: text("model").notNull(),
    providerRequestId: text("provider_request_id"),
    cost: integer("cost").notNull(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    idempotencyKey: text("idempotency_key").notNull(),
    /** HMAC-SHA256 under LOOKUP_HMAC_KEY ("h1.…"; plain SHA-256 in older rows) of the canonical request body, to spot key reuse with another body. */
    requestHash: text("request_hash").notNull(),
    queuePosition: integer("queue_position"),
    attempts: integer("attempts").notNull().default(0),
    createdAt: createdAt(),
    submittedAt: integer("submitted_at"),
    completedAt: integer("completed_at"),
    deadlineAt: integer("deadline_at").notNull(),
  },
  (t) => [
    uniqueIndex("generations_idem").on(t.userId, t.idempotencyKey),
    index("generations_user_created").on(t.userId, t.createdAt),
    index("generations_status_deadline").on(t.status, t.deadlineAt),
    index("generations_provider_req").on(t.providerRequestId),
  ],
);

/** Append-only credits ledger; balance = SUM(delta). */
export const ledger = sqliteTable(
  "ledger",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    delta: integer("delta").notNull(),
    reason: text("reason", {
      enum: ["free_grant", "reserve", "refund", "purchase", "purchase_reversal", "adjustment"],
    }).notNull(),
    /** Unique per source event (generation id, Creem event id, ...). */
    reference: text("reference").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("ledger_reason_ref").on(t.reason, t.reference), index("ledger_user").on(t.userId, t.createdAt)],
);

export const payments = sqliteTable("payments", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  /** Creem transaction/checkout id; card data never reaches us. */
  providerTxnId: text("provider_txn_id").notNull().unique(),
  productId: text("product_id"),
  credits: integer("credits").notNull(),
  amount: integer("amount"),
  currency: text("currency"),
  status: text("status").notNull(),
  createdAt: createdAt(),
  updatedAt: integer("updated_at").notNull(),
});

/** Processed webhook deliveries, for idempotency on the provider's event id. */
export const webhookEvents = sqliteTable("webhook_events", {
  id: text("id").primaryKey(),
  provider: text("provider").notNull(),
  receivedAt: integer("received_at").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    /** Sealed: the name the user typed. */
    name: text("name").notNull(),
    /** First characters of the secret, to recognise it in lists. */
    prefix: text("prefix").notNull(),
    /** Hex SHA-256 of the whole secret; the secret itself is never stored. */
    hash: text("hash").notNull().unique(),
    scopes: text("scopes").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_user").on(t.userId)],
);

export const exportsTable = sqliteTable(
  "exports",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    status: text("status", { enum: ["queued", "building", "ready", "failed"] }).notNull(),
    progress: integer("progress").notNull().default(0),
    objectId: text("object_id"),
    error: text("error"),
    createdAt: createdAt(),
    completedAt: integer("completed_at"),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("exports_user").on(t.userId, t.createdAt)],
);

/** Proof of deletion without personal data: ids are hashed. */
/**
 * Ed25519 checkpoints over a user's audit chain head (docs/audit-log.md,
 * worker/services/audit-checkpoints.ts). A row here proves nothing by itself
 * (whoever writes D1 can delete it); copies held by the user can.
 */
export const auditCheckpoints = sqliteTable(
  "audit_checkpoints",
  {
    id: text("id").primaryKey(),
    ...auditChainPosition(),
    /** The chain's `hash` at `seq`. */
    head: text("head").notNull(),
    /** Signing time (Unix ms); the signature covers its ISO 8601 form. */
    createdAt: createdAt(),
    keyId: text("key_id").notNull(),
    /** base64url Ed25519 signature. */
    sig: text("sig").notNull(),
    /** Why it was made: the daily sweep, an export, an account deletion. */
    reason: text("reason", { enum: ["daily", "export", "deletion"] }).notNull(),
  },
  (t) => [index("audit_checkpoints_user_time").on(t.userId, t.createdAt, t.id)],
);

export const deletionReceipts = sqliteTable("deletion_receipts", {
  id: text("id").primaryKey(),
  subjectHash: text("subject_hash").notNull(),
  kind: text("kind", { enum: ["photo", "generation", "account", "export"] }).notNull(),
  counts: text("counts").notNull(),
  createdAt: createdAt(),
});

/** An account deletion in progress; the sweep finishes interrupted ones. */
export const tombstones = sqliteTable("tombstones", {
  userId: text("user_id").primaryKey(),
  /** The users row's keyed subject lookup ("h1.…"; plain in tombstones written before decision 0022). */
  externalId: text("external_id").notNull(),
  /**
   * deletion-hmac.ts "subject" hash, written into deleted_credentials when the
   * deletion completes. null in tombstones written before decision 0022. The
   * subject itself is held in the key bucket meanwhile (crypto/keys.ts).
   */
  deletedLookup: text("deleted_lookup"),
  stage: text("stage").notNull(),
  attempts: integer("attempts").notNull().default(0),
  createdAt: createdAt(),
  updatedAt: integer("updated_at").notNull(),
});

/** Outgoing mail when no provider is configured (local development). */
export const outbox = sqliteTable("outbox", {
  id: text("id").primaryKey(),
  recipient: text("recipient").notNull(),
  subject: text("subject").notNull(),
  body: text("body").notNull(),
  createdAt: createdAt(),
});


/**
 * Credentials of deleted accounts that must keep being refused with
 * `account_deleted` (a session subject, an API key): only a keyed hash
 * (services/deletion-hmac.ts), never the subject or the key hash, and only
 * until `expires_at` (the longest time such a credential can still be valid;
 * see services/deleted-credentials.ts).
 */
export const deletedCredentials = sqliteTable(
  "deleted_credentials",
  {
    /** HMAC-SHA256 hex of `subject|<sub>` or `api_key|<sha256 of the key>`. */
    lookup: text("lookup").primaryKey(),
    /** When the deletion completed: session tokens issued up to then (plus clock skew) are refused. */
    deletedAt: integer("deleted_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("deleted_credentials_expires").on(t.expiresAt)],
);

/**
 * Background work that failed and an operator must see (docs/runbooks/operations.md):
 * Fal payload deletions and mails that could not be done. One row per task
 * (`kind` + `ref`), updated on every attempt. Holds no personal data: `ref`
 * is a Fal request id or a mail's idempotency key, `last_error` a status line.
 */
export const opsIssues = sqliteTable(
  "ops_issues",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["fal.payloads_delete", "mail.send"] }).notNull(),
    ref: text("ref").notNull(),
    /** retrying: queued again with backoff; failed: attempts exhausted or not retryable; resolved: done after all. */
    status: text("status", { enum: ["retrying", "failed", "resolved"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("ops_issues_status_idx").on(t.status, t.updatedAt)],
);

// ------------------------------------------------------------ privacy team
// Issue 16; docs/decisions/0015-privacy-team.md and docs/runbooks/privacy-team.md.

/**
 * A request through the public contact form. The requester's email and
 * message are personal data and are erased (set to null) when the request
 * is closed; type, dates, status and history stay as proof of handling.
 */
export const privacyRequests = sqliteTable(
  "privacy_requests",
  {
    id: text("id").primaryKey(),
    type: text("type", { enum: ["question", "access", "deletion", "takedown"] }).notNull(),
    status: text("status", { enum: ["received", "verifying", "in_progress", "completed", "rejected"] }).notNull(),
    email: text("email"),
    message: text("message"),
    /** Takedown: what the requester named (a generation id or a link), as written. */
    subject: text("subject"),
    /** The account concerned, once an operator has identified it. */
    userId: text("user_id"),
    createdAt: createdAt(),
    /** The legal deadline (GDPR Art. 12(3): one month); null for plain questions. */
    dueAt: integer("due_at"),
    closedAt: integer("closed_at"),
  },
  (t) => [index("privacy_requests_status").on(t.status, t.createdAt)],
);

/** What happened to a privacy request, in order. Notes hold no requester email. */
export const privacyRequestEvents = sqliteTable(
  "privacy_request_events",
  {
    id: text("id").primaryKey(),
    requestId: text("request_id").notNull(),
    at: integer("at").notNull(),
    /** "requester", or the operator's user id. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    note: text("note"),
  },
  (t) => [index("privacy_request_events_request").on(t.requestId, t.at)],
);

/** Every operator action, whoever it affects (the affected user's own log gets an entry too). */
export const operatorLog = sqliteTable(
  "operator_log",
  {
    id: text("id").primaryKey(),
    at: integer("at").notNull(),
    operatorId: text("operator_id").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    userId: text("user_id"),
    /** JSON object: reason, note, counts; never emails, tokens or image bytes. */
    detail: text("detail"),
  },
  (t) => [index("operator_log_at").on(t.at)],
);

/** In-app notices to a user (a takedown, an incident, a legal demand). */
export const notices = sqliteTable(
  "notices",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: ["takedown", "incident", "legal_demand"] }).notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    createdAt: createdAt(),
    readAt: integer("read_at"),
  },
  (t) => [index("notices_user").on(t.userId, t.createdAt)],
);

/** A personal-data breach (GDPR Art. 33/34). */
export const incidents = sqliteTable("incidents", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  title: text("title").notNull(),
  summary: text("summary").notNull(),
  /** When we became aware: the 72-hour clock of Art. 33(1) runs from here. */
  awareAt: integer("aware_at").notNull(),
  windowStart: integer("window_start").notNull(),
  windowEnd: integer("window_end").notNull(),
  /** JSON array of data kinds (e.g. "generated images"). */
  dataKinds: text("data_kinds").notNull(),
  /** JSON: how affected users are found (audit actions in the window). */
  finder: text("finder").notNull(),
  affectedUsers: integer("affected_users"),
  authorityNotifiedAt: integer("authority_notified_at"),
  usersNotifiedAt: integer("users_notified_at"),
  postMortem: text("post_mortem"),
  publishedAt: integer("published_at"),
  createdBy: text("created_by").notNull(),
  createdAt: createdAt(),
});

/** A demand from an authority for user data; /v1/transparency counts these rows. */
export const legalDemands = sqliteTable("legal_demands", {
  id: text("id").primaryKey(),
  type: text("type", { enum: ["subpoena", "court_order", "search_warrant", "emergency", "other"] }).notNull(),
  authority: text("authority").notNull(),
  legalBasis: text("legal_basis").notNull(),
  receivedAt: integer("received_at").notNull(),
  userId: text("user_id"),
  decision: text("decision", { enum: ["pending", "rejected", "complied", "partially_complied"] }).notNull(),
  decisionNote: text("decision_note"),
  decidedAt: integer("decided_at"),
  /** JSON array: exactly which data was produced (empty unless complied). */
  producedData: text("produced_data").notNull(),
  notification: text("notification", { enum: ["pending", "sent", "deferred", "not_applicable"] }).notNull(),
  deferReason: text("defer_reason"),
  deferReviewAt: integer("defer_review_at"),
  notifiedAt: integer("notified_at"),
  createdBy: text("created_by").notNull(),
  createdAt: createdAt(),
});

/**
 * Outgoing webhook endpoints an integrator registered (docs/decisions/0016-outgoing-webhooks.md).
 * The signing secrets are sealed with AES-GCM under a key derived from MASTER_KEYS
 * (services/webhooks/secrets.ts): D1 backups never hold a usable secret.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    url: text("url").notNull(),
    /** Space-separated event types. */
    events: text("events").notNull(),
    secret: text("secret").notNull(),
    /** The secret before the last rotation; keeps signing alongside the new one until `previous_expires_at`. */
    previousSecret: text("previous_secret"),
    previousExpiresAt: integer("previous_expires_at"),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_endpoints_user").on(t.userId)],
);

/** One row per delivery attempt: what happened, never the payload or a signature. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id").notNull(),
    userId: text("user_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    /** 1-based. */
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    /** null on success; otherwise http_status, timeout, network, redirect, too_large, refused_target. */
    errorClass: text("error_class"),
    /** 1 when no further attempt follows (success or given up). */
    final: integer("final").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("webhook_deliveries_endpoint").on(t.endpointId, t.at)],
);

/**
 * A time-boxed support session (issue 16 item 1, decision 0019): one operator,
 * one account, a reason and a ticket. Account facts are readable only while
 * it is open (not ended, not past expires_at); the user may end it.
 */
export const supportSessions = sqliteTable(
  "support_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    operatorId: text("operator_id").notNull(),
    reason: text("reason").notNull(),
    ticket: text("ticket").notNull(),
    openedAt: integer("opened_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    endedAt: integer("ended_at"),
    endedBy: text("ended_by", { enum: ["operator", "user"] }),
  },
  (t) => [index("support_sessions_user").on(t.userId, t.expiresAt), index("support_sessions_expires").on(t.expiresAt)],
);

/**
 * An engineer's request, inside a support session, to see the pictures of one
 * generation. Seen only once approved by the user (`user`, or `user_window`:
 * the window the user opened in Settings) or by a second operator.
 */
export const supportImageRequests = sqliteTable(
  "support_image_requests",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id").notNull(),
    userId: text("user_id").notNull(),
    generationId: text("generation_id").notNull(),
    requestedBy: text("requested_by").notNull(),
    reason: text("reason").notNull(),
    createdAt: createdAt(),
    /** `withdrawn`: approved by the user's Settings window, which has since closed (decision 0019). */
    status: text("status", { enum: ["pending", "approved", "refused", "withdrawn"] }).notNull(),
    decidedBy: text("decided_by"),
    decidedVia: text("decided_via", { enum: ["user", "user_window", "operator"] }),
    decidedAt: integer("decided_at"),
  },
  (t) => [index("support_image_requests_session").on(t.sessionId), index("support_image_requests_user").on(t.userId)],
);
