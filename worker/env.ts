/**
 * Bindings and the zod check of vars and secrets (the request variables are
 * in worker/app-env.ts, above the services that they carry).
 * The check runs once per isolate (memoized per env object); a missing or
 * malformed value fails every request with `misconfigured` and a log line that
 * names the variable (never its value).
 */
import { z } from "zod";
import type { JobMessage } from "./queue/messages";
import { RETENTION } from "./lib/privacy-facts";
import { whoWeAreProblems } from "./lib/who-we-are";

/** How every local development subject starts (localSubject in worker/auth/local-idp.ts). */
const LOCAL_SUBJECT_PREFIX = "user_local_";

export interface Bindings {
  DB: D1Database;
  /** The data bucket: encrypted objects only (docs/storage-format.md §3). */
  BUCKET: R2Bucket;
  /** The key bucket: wrapped data keys only; never backed up (docs/decisions/0011). */
  KEYS: R2Bucket;
  /** Backup copies of the data bucket, expiring after BACKUP_RETENTION_DAYS (docs/runbooks/backups.md). */
  BACKUP: R2Bucket;
  JOBS: Queue<JobMessage>;
  RL_WRITE: RateLimit;
  RL_READ: RateLimit;
  RL_IP: RateLimit;
  ENVIRONMENT: string;
  APP_ORIGIN: string;
  PUBLIC_API_URL: string;
  CLERK_AUTHORIZED_PARTIES: string;
  FAL_MODEL: string;
  FAL_QUEUE_URL: string;
  FAL_JWKS_URL: string;
  FREE_CREDITS: string;
  GENERATION_COST: string;
  SIGNED_URL_TTL_SECONDS: string;
  MAX_UPLOAD_BYTES: string;
  ADMIN_USER_IDS: string;
  /** Clerk user ids of engineers (operators who may ask to see a picture in a support session); optional. */
  ENGINEER_USER_IDS?: string;
  CREEM_API_URL: string;
  CREEM_TEST_MODE: string;
  CREEM_PRODUCTS: string;
  BACKUP_RETENTION_DAYS: string;
  /** Oldest session (minutes since its sign-in check) the API accepts; default 720. Match Clerk's "Maximum lifetime". */
  SESSION_MAX_MINUTES?: string;
  /** Who we are (worker/lib/who-we-are.ts): required, checked below. */
  CONTROLLER_NAME: string;
  CONTROLLER_ADDRESS: string;
  DPO_NAME: string;
  DPO_EMAIL: string;
  PRIVACY_EMAIL: string;
  SECURITY_EMAIL: string;
  // Secrets (wrangler secret put / .dev.vars). Optional at the type level so
  // that the zod check below, not a crash, reports what is missing.
  CLERK_JWT_KEY?: string;
  CLERK_SECRET_KEY?: string;
  CLERK_WEBHOOK_SECRET?: string;
  MASTER_KEYS?: string;
  URL_SIGNING_KEYS?: string;
  HPKE_KEYS?: string;
  AUDIT_SIGNING_KEYS?: string;
  LOOKUP_HMAC_KEY?: string;
  LOCAL_IDP_PRIVATE_KEY?: string;
  FAL_KEY?: string;
  FAL_ADMIN_KEY?: string;
  CREEM_API_KEY?: string;
  CREEM_WEBHOOK_SECRET?: string;
  MAIL_API_KEY?: string;
  MAIL_FROM?: string;
  NODE_ENV?: string;
}

const csv = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

function jsonString<T extends z.ZodType>(schema: T) {
  return z.string().transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be JSON" });
      return z.NEVER;
    }
  }).pipe(schema);
}

/** `{"current":"kid","keys":{"kid":"<value>"}}`: a key ring with rotation. */
function keyRing<T extends z.ZodType>(value: T) {
  return jsonString(
    z
      .object({ current: z.string().min(1), keys: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), value) })
      .refine((r) => r.current in r.keys, "current must name one of keys"),
  );
}

const base64Key32 = z.string().refine((s) => {
  try {
    return atob(s).length === 32;
  } catch {
    return false;
  }
}, "must be 32 random bytes in base64");

const p256PrivateJwk = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string(),
  y: z.string(),
  d: z.string(),
});
export type P256PrivateJwk = z.infer<typeof p256PrivateJwk>;

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO 8601 time");

/**
 * One Ed25519 key of the audit checkpoint ring (RFC 8037 OKP JWK). The
 * current key needs its private part `d`; a retired key needs `retiredAt`
 * (checkpoints it signed later than that are refused by verifiers) and should
 * drop `d`, keeping only the public `x` so old checkpoints still verify.
 */
const ed25519Jwk = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "x must be 32 bytes base64url"),
  d: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "d must be 32 bytes base64url").optional(),
  retiredAt: isoTime.optional(),
});
export type Ed25519RingKey = z.infer<typeof ed25519Jwk>;

/** `{"current":"kid","keys":{"kid":{OKP JWK}, "old":{..., "retiredAt":"ISO"}}}` (docs/audit-log.md). */
const auditKeyRing = jsonString(
  z
    .object({ current: z.string().min(1), keys: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), ed25519Jwk) })
    .superRefine((r, ctx) => {
      const cur = r.keys[r.current];
      if (!cur) ctx.addIssue({ code: "custom", message: "current must name one of keys" });
      else if (!cur.d || cur.retiredAt) ctx.addIssue({ code: "custom", message: "the current key needs d and no retiredAt" });
      for (const [kid, k] of Object.entries(r.keys)) {
        if (kid !== r.current && !k.retiredAt) ctx.addIssue({ code: "custom", message: `key ${kid} is not current and needs retiredAt` });
      }
    }),
);

import { PRODUCTION_SECRETS } from "./lib/secrets";
export { PRODUCTION_SECRETS };
/** 12 hours: a working day, after which a browser signs in again (docs/decisions/0014). */
export const DEFAULT_SESSION_MAX_MINUTES = 720;

const creemProduct = z.object({ credits: z.number().int().positive(), name: z.string(), price: z.string() });

export const ConfigSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "staging", "production"]),
    APP_ORIGIN: z.url(),
    PUBLIC_API_URL: z.url(),
    CLERK_AUTHORIZED_PARTIES: csv,
    CLERK_JWT_KEY: z.string().includes("BEGIN PUBLIC KEY", { message: "must be a PEM public key" }),
    CLERK_SECRET_KEY: z.string().optional(),
    CLERK_WEBHOOK_SECRET: z.string().optional(),
    MASTER_KEYS: keyRing(base64Key32),
    URL_SIGNING_KEYS: keyRing(base64Key32),
    HPKE_KEYS: keyRing(p256PrivateJwk),
    AUDIT_SIGNING_KEYS: auditKeyRing,
    /** HMAC key for equality lookups over personal values (worker/services/crypto/fields.ts). */
    LOOKUP_HMAC_KEY: base64Key32,
    LOCAL_IDP_PRIVATE_KEY: z.string().optional(),
    FAL_KEY: z.string().optional(),
    // Admin scope, used only for Fal's payload deletion (least privilege: FAL_KEY never has it).
    FAL_ADMIN_KEY: z.string().min(1).optional(),
    FAL_MODEL: z.string().min(1),
    FAL_QUEUE_URL: z.url(),
    FAL_JWKS_URL: z.url(),
    FREE_CREDITS: intString(0, 1000),
    GENERATION_COST: intString(1, 100),
    SIGNED_URL_TTL_SECONDS: intString(30, 3600),
    MAX_UPLOAD_BYTES: intString(1024, 50_000_000),
    ADMIN_USER_IDS: csv,
    ENGINEER_USER_IDS: csv,
    CREEM_API_URL: z.url(),
    CREEM_TEST_MODE: z.enum(["true", "false"]).transform((v) => v === "true"),
    CREEM_PRODUCTS: jsonString(z.record(z.string(), creemProduct)),
    // The published figure (worker/lib/privacy-facts.ts) is what the pages say; a deployment set otherwise refuses to start.
    BACKUP_RETENTION_DAYS: intString(1, 365).refine((d) => d === RETENTION.backupDays, {
      message: `must be ${RETENTION.backupDays}, the number of days worker/lib/privacy-facts.ts publishes`,
    }),
    SESSION_MAX_MINUTES: z
      .string()
      .optional()
      .transform((s) => s ?? String(DEFAULT_SESSION_MAX_MINUTES))
      .pipe(intString(10, 43_200)),
    CREEM_API_KEY: z.string().optional(),
    CREEM_WEBHOOK_SECRET: z.string().optional(),
    MAIL_API_KEY: z.string().optional(),
    MAIL_FROM: z.string().optional(),
    CONTROLLER_NAME: z.string().default(""),
    CONTROLLER_ADDRESS: z.string().default(""),
    DPO_NAME: z.string().default(""),
    DPO_EMAIL: z.string().default(""),
    PRIVACY_EMAIL: z.string().default(""),
    SECURITY_EMAIL: z.string().default(""),
  })
  .superRefine((c, ctx) => {
    // The local identity provider mints sessions for anyone; it must never
    // exist outside local development (see docs/decisions/0001).
    if (c.LOCAL_IDP_PRIVATE_KEY && c.ENVIRONMENT !== "development") {
      ctx.addIssue({
        code: "custom",
        path: ["LOCAL_IDP_PRIVATE_KEY"],
        message: `is set but ENVIRONMENT is ${c.ENVIRONMENT}; the local identity provider only runs in development`,
      });
    }
    // The local users (worker/auth/local-idp.ts) are engineers in development only
    // (wrangler.toml); a deployment naming one would hand picture access to a test account.
    if (c.ENVIRONMENT !== "development" && c.ENGINEER_USER_IDS.some((id) => id.startsWith(LOCAL_SUBJECT_PREFIX))) {
      ctx.addIssue({ code: "custom", path: ["ENGINEER_USER_IDS"], message: `names a local development user (${LOCAL_SUBJECT_PREFIX}…) but ENVIRONMENT is ${c.ENVIRONMENT}` });
    }
    // GDPR Art. 13(1)(a)-(b): every deployment names its controller and contacts.
    for (const p of whoWeAreProblems(c, c.ENVIRONMENT)) ctx.addIssue({ code: "custom", path: [p.name], message: p.message });
    // A mail key without a sender would silently fall back to the local outbox.
    if (c.MAIL_API_KEY && !c.MAIL_FROM) {
      ctx.addIssue({ code: "custom", path: ["MAIL_FROM"], message: "is required when MAIL_API_KEY is set" });
    }
    if (c.ENVIRONMENT === "production") {
      for (const name of PRODUCTION_SECRETS) {
        if (!c[name]) ctx.addIssue({ code: "custom", path: [name], message: "is required in production" });
      }
      if (c.FAL_KEY && c.FAL_ADMIN_KEY && c.FAL_KEY === c.FAL_ADMIN_KEY) {
        ctx.addIssue({ code: "custom", path: ["FAL_ADMIN_KEY"], message: "must be a separate admin-scoped key, not FAL_KEY" });
      }
      if (!c.PUBLIC_API_URL.startsWith("https://")) {
        ctx.addIssue({ code: "custom", path: ["PUBLIC_API_URL"], message: "must be https in production" });
      }
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const cache = new WeakMap<object, Config>();

/** Parses and caches the config; throws ConfigError naming each bad variable. */
export function loadConfig(env: Bindings): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const raw = env as unknown as Record<string, unknown>;
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.length ? String(i.path[0]) : "config";
        return i.code !== "custom" && (raw[name] === undefined || raw[name] === "") ? `${name} is missing` : `${name} ${i.message}`;
      }),
    );
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
