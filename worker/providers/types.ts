/**
 * The image-generation provider behind one interface (docs/architecture.md): the
 * pipeline only ever sees these types, so the model id, its input mapping and
 * the provider's wire format stay inside one adapter (worker/providers/fal.ts).
 */

export type BabyGender = "girl" | "boy" | "surprise";
export type AgeGroup = "newborn" | "toddler" | "child";

/** The user's choices, already validated at the API boundary. */
export interface GenerationOptions {
  gender: BabyGender;
  ageGroup: AgeGroup;
  /** 0 = looks like the father, 1 = looks like the mother. */
  resemblance: number;
  images: number;
}

export interface ParentPhoto {
  contentType: string;
  bytes: Uint8Array;
}

export interface SubmitInput {
  /** Our id; adapters may derive deterministic choices from it (e.g. "surprise"). */
  generationId: string;
  mother: ParentPhoto;
  father: ParentPhoto;
  options: GenerationOptions;
  /**
   * For a model that only accepts URLs: a single-use, minutes-long link to
   * one parent photo (services/generation-inputs.ts). Unused for data URIs.
   */
  inputUrl?: (which: "mother" | "father") => Promise<string>;
}

export type ProviderStatus =
  | { state: "in_queue"; queuePosition: number | null; logs: string[] }
  | { state: "in_progress"; logs: string[] }
  | { state: "completed"; logs: string[] };

export interface OutputImage {
  url: string;
  width: number | null;
  height: number | null;
  contentType: string | null;
}

/** Why a generation failed, as shown to the user (never provider internals). */
export type FailureCode =
  | "model_error"
  | "safety_refusal"
  | "output_flagged"
  | "invalid_output"
  | "timeout"
  | "input_rejected"
  | "photo_missing"
  | "consent_withdrawn"
  | "internal";

/** An output classifier's answer: flagged when the NSFW probability reaches the threshold. */
export interface ModerationVerdict {
  flagged: boolean;
  nsfwProbability: number;
}

export type ProviderOutcome = { ok: true; images: OutputImage[] } | { ok: false; code: FailureCode; detail: string };

/** A verified webhook delivery: who it is about and what it says. */
export interface WebhookDelivery {
  requestId: string;
  /** null: the delivery carried no usable payload; ask the provider for the result. */
  outcome: ProviderOutcome | null;
}

export type WebhookFailure = "missing-headers" | "malformed-headers" | "stale-timestamp" | "bad-signature" | "keys-unavailable" | "malformed-body";

export type WebhookVerification = { ok: true; delivery: WebhookDelivery } | { ok: false; reason: WebhookFailure };

export interface ImageProvider {
  readonly name: string;
  readonly model: string;
  /** Queues the job; returns the provider's request id. Never uploads the photos anywhere. */
  submit(input: SubmitInput): Promise<{ requestId: string }>;
  status(requestId: string): Promise<ProviderStatus>;
  /** The finished job's outputs, or why it failed. */
  result(requestId: string): Promise<ProviderOutcome>;
  cancel(requestId: string): Promise<void>;
  /** Asks the provider to forget the request's inputs and outputs (an admin-scoped call at Fal). */
  deletePayloads(requestId: string): Promise<void>;
  /**
   * Classifies one output before it is stored (docs/decisions/0009-output-moderation.md):
   * the NSFW probability of the exact bytes we would keep.
   */
  moderate(image: { contentType: string; bytes: Uint8Array }): Promise<ModerationVerdict>;
  /** Downloads one output; refuses any URL the provider could not have produced. */
  download(url: string): Promise<Uint8Array>;
  verifyWebhook(headers: Headers, rawBody: Uint8Array, nowMs: number): Promise<WebhookVerification>;
}

/**
 * A provider call that failed. `transient` errors (rate limits, 5xx,
 * network) are retried by the queue with backoff; permanent ones fail the
 * generation with `code`.
 */
export class ProviderError extends Error {
  readonly transient: boolean;
  readonly code: FailureCode;
  readonly status: number | null;

  constructor(message: string, opts: { transient: boolean; code?: FailureCode; status?: number | null }) {
    super(message);
    this.name = "ProviderError";
    this.transient = opts.transient;
    this.code = opts.code ?? "model_error";
    this.status = opts.status ?? null;
  }
}
