/**
 * The services every request, job and cron run is handed. Built by
 * createServices (./index.ts), the one composition root; defined here, apart
 * from it, so that every service (and the modules createServices itself
 * imports) names the type from this file without an import circle.
 */
import type { Db } from "../db/client";
import type { objects } from "../db/schema";
import type { Bindings, Config } from "../env";
import type { ImageProvider } from "../providers/types";
import type { RateLimiter } from "./rate-limiter";

export interface Services {
  env: Bindings;
  config: Config;
  db: Db;
  /** Milliseconds since the epoch; injectable so retention tests can move time. */
  now: () => number;
  /** Overrides the Workers Rate Limiting bindings (tests inject a fake to prove 429s). */
  rateLimiter?: RateLimiter;
  /**
   * Runs `task` after the response is sent (the request's
   * `ExecutionContext.waitUntil`), for work the answer must not wait on or
   * reveal by its timing. Without a context (scripts, some tests) the task
   * simply runs unawaited. Failures are logged, never thrown.
   */
  waitUntil: (task: Promise<unknown>) => void;
  /** The image provider and the storage the generation pipeline writes through (services/generation-pipeline.ts). */
  readonly pipeline: Pipeline;
  /** Transactional mail: Resend when configured, else the D1 outbox (services/mailer.ts). */
  mailer: Mailer;
}

export type ObjectRow = typeof objects.$inferSelect;

/** What the pipeline needs from encrypted storage and image validation (worker/services/storage.ts, image.ts). */
export interface PipelineStorage {
  getObject(s: Services, userId: string, objectId: string): Promise<{ row: ObjectRow; bytes: Uint8Array } | null>;
  putObject(
    s: Services,
    input: { id: string; userId: string; kind: "output"; contentType: string; bytes: Uint8Array; width: number; height: number; generationId: string },
  ): Promise<ObjectRow>;
  deleteObjects(s: Services, userId: string, ids: string[]): Promise<number>;
  /** Treats the bytes as untrusted: magic bytes, dimensions, metadata stripped. */
  validateImage(bytes: Uint8Array): Promise<ImageCheck> | ImageCheck;
}

export type ImageCheck = { ok: true; contentType: string; width: number; height: number; bytes: Uint8Array } | { ok: false; reason: string };

export interface Pipeline {
  provider: ImageProvider;
  storage: PipelineStorage;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** Lets a retried send be delivered once (Resend keeps keys for 24 h). */
  idempotencyKey: string;
}

export interface Mailer {
  readonly kind: "resend" | "outbox";
  send(msg: MailMessage): Promise<void>;
}
