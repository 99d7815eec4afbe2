/**
 * The privacy facts BabyPic states publicly: terms version, retention rules,
 * sub-processors, data categories and rights. `GET /v1/privacy`, the export's
 * `privacy.json` and the SPA's Security page all read this one module, and the
 * retention sweeps use the same numbers, so what we say is what the code does
 * (GDPR Art. 13/14 information; Art. 28 sub-processors).
 *
 * Dependency-free on purpose: the SPA imports it too. Who we are (controller,
 * DPO, contacts) is configuration, not code: see lib/who-we-are.ts; the SPA
 * reads it from `GET /v1/privacy`.
 */
import type { WhoWeAre } from "./who-we-are";

/** Bump when the terms change: every user must consent again before processing. */
export const TERMS_VERSION = "2026-11-01";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export const RETENTION = {
  /** Choices a user has for keeping parent photos after their generation finishes. */
  keepPhotosDaysChoices: [0, 7, 30] as const,
  /** Uploads never used by a generation are deleted after this long. */
  abandonedUploadMs: 24 * HOUR_MS,
  /** A data export (ZIP) and its download link live this long after it is ready. */
  exportTtlMs: 1 * HOUR_MS,
  /**
   * The local outbox (mail kept in D1 only when no mail provider is
   * configured) is purged after this long: it holds a recipient address.
   */
  outboxTtlMs: 24 * HOUR_MS,
  /** Security-log entries (auth failures, truncated IPs) are purged after this long. */
  securityLogMs: 90 * DAY_MS,
  /** D1 Time Travel keeps database history this long; rows hold no photos and no keys. */
  databaseHistoryDays: 30,
  /**
   * Backup copies of the encrypted files expire this long after they were
   * copied (the backup bucket's lifecycle rule and the backup job's own
   * expiry; the deployment's BACKUP_RETENTION_DAYS must equal it).
   */
  backupDays: 30,
  /** Signed file links never live longer than this (the configured TTL is capped to it). */
  signedLinkMaxSeconds: 3600,
  /** Session tokens living longer than this are refused (Clerk's live 60 s; local ones at most this). */
  sessionTokenMaxMs: 24 * HOUR_MS,
  /** A deleted account's API key without an expiry of its own is remembered (as a keyed hash) this long. */
  deletedApiKeyMemoryMs: 30 * DAY_MS,
} as const;

export type KeepPhotosDays = (typeof RETENTION.keepPhotosDaysChoices)[number];

export const DAY = DAY_MS;

export interface SubProcessor {
  name: string;
  purpose: string;
  dataCategories: string[];
  /** When the sub-processor is involved at all. */
  when: string;
  url: string;
}

export const SUB_PROCESSORS: readonly SubProcessor[] = [
  {
    name: "Cloudflare",
    purpose: "Hosting: the API (Workers), database (D1), encrypted file storage (R2), job queues and the web app (Pages).",
    dataCategories: ["account record", "encrypted photos and results", "audit log", "truncated IP addresses"],
    when: "Always",
    url: "https://www.cloudflare.com/privacypolicy/",
  },
  {
    name: "Clerk",
    purpose: "Sign-in and identity: holds your email address and sign-in sessions.",
    dataCategories: ["email address", "sign-in sessions", "identity provider profile"],
    when: "Always (deleted when you delete your account)",
    url: "https://clerk.com/legal/privacy",
  },
  {
    name: "fal.ai",
    purpose: "Runs the AI model that generates the baby image from the two parent photos, and the content classifier each generated image passes before we store it.",
    dataCategories: ["parent photos (sent per request, not stored by request)", "generated images"],
    when: "For each generation; we ask fal.ai not to store inputs and outputs and to delete the request's payloads",
    url: "https://fal.ai/privacy",
  },
  {
    name: "Creem",
    purpose: "Payments as merchant of record; card data never reaches BabyPic.",
    dataCategories: ["billing email", "payment details", "transaction id and status"],
    when: "Only when you buy credits",
    url: "https://www.creem.io/privacy",
  },
  {
    name: "Resend (mail provider)",
    purpose: "Sends transactional email (the account-deletion confirmation).",
    dataCategories: ["email address", "message text (no photos)"],
    when: "Only when a mail provider is configured; otherwise mail stays in a local outbox purged after 24 hours",
    url: "https://resend.com/legal/privacy-policy",
  },
];

export const DATA_CATEGORIES = [
  { category: "Account", items: ["internal user id", "email address (from Clerk)", "settings", "consent version and time"], retention: "Until you delete your account" },
  { category: "Parent photos", items: ["the two uploaded photos, metadata stripped, encrypted at rest"], retention: "Deleted when their generation finishes, or after 7 or 30 days if you chose to keep them; unused uploads after 24 hours" },
  { category: "Generated images", items: ["model output, encrypted at rest"], retention: "Until you delete them or your account" },
  { category: "Generation records", items: ["options, status, timestamps, model id"], retention: "Until you delete them or your account" },
  { category: "Audit log", items: ["every access to your data, hash-chained", "truncated IP address", "user agent"], retention: "Until you delete your account" },
  { category: "Credits and payments", items: ["credit ledger", "transaction id, amount and status (no card data)"], retention: "Until you delete your account" },
  { category: "Data exports", items: ["ZIP of everything above, encrypted at rest"], retention: "1 hour" },
  { category: "Security log", items: ["failed sign-ins and refused links", "truncated IP address"], retention: "90 days, or until you delete your account" },
  {
    category: "Privacy requests (contact form, no account needed)",
    items: ["your email address and message", "the request's type, dates, status and history"],
    retention: "Email address and message until the request is closed, then erased; type, dates, status and history are kept as the record of how we answered",
  },
] as const;

export const PURPOSES = [
  { purpose: "Generate baby images from the two parent photos you upload", legalBasis: "Contract (GDPR Art. 6(1)(b)) and your explicit consent for the people pictured" },
  { purpose: "Keep your results, credits and settings", legalBasis: "Contract (GDPR Art. 6(1)(b))" },
  { purpose: "Record every access to your data in an audit log you can read", legalBasis: "Legitimate interest in accountability (GDPR Art. 6(1)(f)); Art. 5(2)" },
  { purpose: "Detect abuse of sign-in and links", legalBasis: "Legitimate interest in security (GDPR Art. 6(1)(f)); Art. 32" },
  { purpose: "Process payments for credits", legalBasis: "Contract (GDPR Art. 6(1)(b))" },
] as const;

export const RIGHTS = [
  { right: "Access and portability", article: "GDPR Art. 15, Art. 20", how: "POST /v1/account/exports: a ZIP of all your data, ready within minutes, downloadable for 1 hour" },
  { right: "Erasure", article: "GDPR Art. 17", how: "DELETE /v1/generations/:id, DELETE /v1/photos/:id, or DELETE /v1/account; each returns a deletion receipt" },
  { right: "Withdraw consent", article: "GDPR Art. 7(3)", how: "DELETE /v1/me/consent: processing stops at once; deletion is offered" },
  { right: "Rectification", article: "GDPR Art. 16", how: "Your email address is managed in your Clerk profile" },
  { right: "Restriction and objection", article: "GDPR Art. 18, Art. 21", how: "Withdraw consent, or write to us through the contact form at /contact" },
  { right: "Requests without an account, and takedowns", article: "GDPR Art. 12(3), Art. 15, Art. 17", how: "The contact form at /contact: an access, deletion or takedown request gets the legal deadline of one month, tracked until it is closed; a verified takedown deletes the picture and tells its owner why" },
  { right: "See every access", article: "GDPR Art. 15(1)", how: "GET /v1/account/audit" },
  { right: "Complain to a supervisory authority", article: "GDPR Art. 77", how: "Any EU data protection authority" },
] as const;

/**
 * What BabyPic's web app checks on the person's own device before a photo
 * leaves it (issue 20, decision 0017); the browser tests in
 * test/e2e/face-check.test.mjs prove each sentence.
 */
export const ON_DEVICE_CHECKS = [
  "The Create page checks each parent photo on your device, in your browser, before anything is uploaded: it looks for exactly one clear face, large enough (at least 80 pixels and 12% of the photo's shorter side), sharp and facing the camera, and says in plain words why a photo is refused.",
  "The check runs a small face detector and a face landmark model in WebAssembly, loaded from BabyPic's own site; the photo is not sent anywhere to be checked.",
  "Nothing is uploaded and no credit is used until both photos pass.",
  "Only a square around the face, with a margin for hair, ears and chin, is sealed and sent; the rest of the photo never leaves your device, and the page shows exactly what will be sent.",
  "The API still accepts whole photos from integrators' own apps; the check is part of BabyPic's web app.",
] as const;

/** Limits we state plainly rather than hide. */
export const LIMITS = [
  `D1 Time Travel keeps database history for ${RETENTION.databaseHistoryDays} days; rows hold no photos and no keys, and deleted accounts' files stay unreadable because their key is destroyed first. Email, the sign-in provider's id for you, consent, activity-log IP prefixes, browsers and details, generation options and API key names are encrypted with that same key, so that history cannot read them either; our own random ids, counts, times, payment amounts and the security log's IP prefixes stay readable there.`,
  "Photos are encrypted to our processing key in your browser, not end-to-end: the model must see them.",
  "fal.ai receives the parent photos for each generation; we tell it not to store them and ask it to delete the request's payloads.",
  "Clerk holds your email address until you delete your account.",
  `Backup copies of your encrypted files stay in our backup storage until they are ${RETENTION.backupDays} days old, also after you delete them or your account; they cannot be read after your account is deleted, because backups never hold the key that opens them and that key is destroyed first.`,
  "If you register a webhook endpoint, we send it notices of your events carrying ids and status only (never photos, links or your email), and only to the https address you chose.",
] as const;

export interface RetentionRule {
  id: string;
  data: string;
  rule: string;
  /** null: kept until the user deletes it. */
  seconds: number | null;
}

const secs = (ms: number) => Math.round(ms / 1000);

/** The retention rules with the numbers the sweeps use; `signedLinkTtlSeconds` is the deployment's configured link TTL. */
export function retentionRules(signedLinkTtlSeconds: number): RetentionRule[] {
  const keep = RETENTION.keepPhotosDaysChoices.filter((d) => d > 0).join(" or ");
  return [
    {
      id: "parent-photos",
      data: "Parent photos",
      rule: `Deleted in the same step that completes (or ends) their generation, unless you chose to keep them ${keep} days; if that deletion fails, the sweep every 5 minutes retries it`,
      seconds: 0,
    },
    { id: "abandoned-uploads", data: "Uploads never used by a generation", rule: "Deleted after 24 hours", seconds: secs(RETENTION.abandonedUploadMs) },
    { id: "results", data: "Generated images and generation records", rule: "Kept until you delete them or your account", seconds: null },
    { id: "exports", data: "Data exports", rule: "Deleted 1 hour after they are ready", seconds: secs(RETENTION.exportTtlMs) },
    {
      id: "signed-links",
      data: "File links",
      rule: "Expire after at most 1 hour and stop working at once when the file is deleted",
      seconds: Math.min(signedLinkTtlSeconds, RETENTION.signedLinkMaxSeconds),
    },
    { id: "audit-log", data: "Audit log", rule: "Kept until you delete your account", seconds: null },
    { id: "security-log", data: "Security log", rule: "Deleted after 90 days", seconds: secs(RETENTION.securityLogMs) },
    {
      id: "outbox",
      data: "Local mail outbox (only without a mail provider)",
      rule: "Deleted after 24 hours, and at once when the account it was sent to is deleted",
      seconds: secs(RETENTION.outboxTtlMs),
    },
    {
      id: "database-history",
      data: "Database point-in-time history (D1 Time Travel)",
      rule: `Kept by Cloudflare for ${RETENTION.databaseHistoryDays} days; holds no photos and no keys, and personal fields only encrypted with the account's data key`,
      seconds: RETENTION.databaseHistoryDays * 86_400,
    },
    {
      id: "backups",
      data: "Backup copies of encrypted files (no keys)",
      rule: `Deleted once they are ${RETENTION.backupDays} days old; unreadable as soon as the account they belong to is deleted`,
      seconds: RETENTION.backupDays * 86_400,
    },
    {
      id: "account",
      data: "Everything of a deleted account",
      rule:
        "Key destroyed first, then deleted at once; an interrupted deletion is finished by the next sweep, within minutes. Sign-in sessions and API keys " +
        "issued before the deletion are refused and cannot recreate the account; only a keyed hash of them is kept, for 24 hours (sessions) or until " +
        "the key's expiry (at most 30 days for a key without one)",
      seconds: 0,
    },
  ];
}

export interface PrivacyFacts extends WhoWeAre {
  termsVersion: string;
  purposes: { purpose: string; legalBasis: string }[];
  subProcessors: SubProcessor[];
  retention: RetentionRule[];
  dataCategories: { category: string; items: string[]; retention: string }[];
  rights: { right: string; article: string; how: string }[];
  onDeviceChecks: string[];
  limits: string[];
}

export function privacyFacts(signedLinkTtlSeconds: number, who: WhoWeAre): PrivacyFacts {
  return {
    ...who,
    termsVersion: TERMS_VERSION,
    purposes: PURPOSES.map((p) => ({ ...p })),
    subProcessors: SUB_PROCESSORS.map((p) => ({ ...p, dataCategories: [...p.dataCategories] })),
    retention: retentionRules(signedLinkTtlSeconds),
    dataCategories: DATA_CATEGORIES.map((d) => ({ ...d, items: [...d.items] })),
    rights: RIGHTS.map((r) => ({ ...r })),
    onDeviceChecks: [...ON_DEVICE_CHECKS],
    limits: [...LIMITS],
  };
}
