/**
 * The real Fal adapter (docs/architecture.md), over Fal's queue REST API through
 * `@fal-ai/client`. Privacy rules enforced here, in one place:
 * - parent photos travel only as data URIs inside the submit body; nothing
 *   is ever sent to Fal's storage (its CDN files are public by default), and
 *   the injected fetch refuses every host but the queue and platform APIs;
 * - `X-Fal-Store-IO: 0` asks Fal not to keep the payloads, and a short
 *   object lifecycle bounds how long output files live on its CDN;
 * - after finalizing we call Fal's payload deletion endpoint, with a separate
 *   admin-scoped key (Fal requires the admin scope there; the model key never
 *   gets it, least privilege);
 * - every output is classified by an NSFW model on Fal before it is stored,
 *   because the generation model itself flags nothing (decision 0009).
 * The injected fetch also rewrites Fal's origins to FAL_QUEUE_URL (the local
 * Fal server in development) and turns 429/5xx into a non-retryable error so
 * the client never sleeps inside a queue consumer: the queue does the backoff.
 */
import { ApiError, createFalClient, type FalClient } from "@fal-ai/client";
import { z } from "zod";
import { base64Decode, base64Encode } from "../lib/bytes";
import { verifyFalSignature } from "./fal-webhook";
import {
  ProviderError,
  type AgeGroup,
  type FailureCode,
  type ImageProvider,
  type OutputImage,
  type ProviderOutcome,
  type ProviderStatus,
  type SubmitInput,
  type WebhookVerification,
} from "./types";

export const FAL_QUEUE_ORIGIN = "https://queue.fal.run";
export const FAL_API_ORIGIN = "https://api.fal.ai";
/** Fal's synchronous endpoint host (the moderation classifier is called there). */
export const FAL_RUN_ORIGIN = "https://fal.run";
/** Fal's NSFW classifier: input `{image_url}`, output `{nsfw_probability}` (fal.ai/models/fal-ai/imageutils/nsfw). */
export const MODERATION_MODEL = "fal-ai/imageutils/nsfw";
/**
 * At or above this NSFW probability an output is refused. Deliberately low:
 * every image shows a child, so a false refusal (refunded) is the cheap error.
 */
export const NSFW_THRESHOLD = 0.3;
/** Seconds Fal keeps output files on its CDN: long enough for the poll fallback to download them. */
export const FAL_OUTPUT_TTL_SECONDS = 3600;
const CALL_TIMEOUT_MS = 30_000;
export const MAX_OUTPUT_BYTES = 25 * 1024 * 1024;

export interface FalProviderConfig {
  /** `key_id:key_secret`, API scope: submit, status, result, cancel, moderation. */
  credentials: string;
  /** Admin scope, used only for payload deletion; absent means deletion cannot be done. */
  adminCredentials?: string | null;
  model: string;
  /** https://queue.fal.run in production; the local Fal server in development. */
  queueUrl: string;
  jwksUrl: string;
  /** Our fixed webhook endpoint. */
  webhookUrl: string;
  /** How photos travel: inline data URIs (default), or single-use input links for a URL-only model. */
  inputs?: "data-uri" | "link";
  fetch?: typeof fetch;
}

/**
 * Models that refuse data URIs and only fetch URLs get single-use input links
 * instead (never Fal storage). The default model takes data URIs.
 */
export const URL_ONLY_MODELS: ReadonlySet<string> = new Set<string>();

// ---------------------------------------------------------------- mapping

const AGE_GROUPS = { newborn: "baby", toddler: "toddler", child: "preschool" } as const;

type ModelGender = "female" | "male";

/**
 * The model's `prompt` defaults to "a newborn baby" whatever `age_group`
 * says, so every request sends a prompt that names the same age and the
 * gender (docs/generation-pipeline.md, "The model's input").
 */
const PROMPTS: Record<AgeGroup, Record<ModelGender, string>> = {
  newborn: {
    female: "a portrait photo of a newborn baby girl, a few weeks old",
    male: "a portrait photo of a newborn baby boy, a few weeks old",
  },
  toddler: {
    female: "a portrait photo of a toddler girl, about two years old",
    male: "a portrait photo of a toddler boy, about two years old",
  },
  child: {
    female: "a portrait photo of a young girl, about four years old",
    male: "a portrait photo of a young boy, about four years old",
  },
};

export function promptFor(ageGroup: AgeGroup, gender: ModelGender): string {
  return PROMPTS[ageGroup][gender];
}

/**
 * Our options -> the model's input (half-moon-ai/ai-baby-and-aging-generator/multi:
 * mother/father image lists, required age group and gender, a prompt matched
 * to both, parent weight, image count). "surprise" is decided once per
 * generation from its id, so a retried submit sends the same input.
 */
export function toFalInput(input: SubmitInput, images?: { mother: string; father: string }): Record<string, unknown> {
  const { options } = input;
  const gender: ModelGender =
    options.gender === "girl" ? "female" : options.gender === "boy" ? "male" : parseInt(input.generationId.slice(-1), 16) % 2 === 0 ? "female" : "male";
  return {
    prompt: promptFor(options.ageGroup, gender),
    mother_image_urls: [images?.mother ?? dataUri(input.mother.contentType, input.mother.bytes)],
    father_image_urls: [images?.father ?? dataUri(input.father.contentType, input.father.bytes)],
    age_group: AGE_GROUPS[options.ageGroup],
    gender,
    // resemblance is toward the mother; the model weighs the father.
    father_weight: Math.round((1 - options.resemblance) * 100) / 100,
    num_images: options.images,
  };
}

function dataUri(contentType: string, bytes: Uint8Array): string {
  return `data:${contentType};base64,${base64Encode(bytes)}`;
}

// ---------------------------------------------------------------- wire schemas

const FalImage = z.object({
  url: z.string().min(1).max(50_000_000),
  width: z.number().int().positive().nullish(),
  height: z.number().int().positive().nullish(),
  content_type: z.string().max(100).nullish(),
});
/** The model's output: `{prompt, images, seed}`; it carries no safety flag (decision 0009). */
const FalImagesOutput = z.object({
  prompt: z.string().max(10_000).nullish(),
  images: z.array(FalImage).max(16),
  seed: z.number().int().nullish(),
});
const FalModerationOutput = z.object({ nsfw_probability: z.number().min(0).max(1) });
const FalSubmitResponse = z.object({ request_id: z.string().min(1).max(128) });
const FalStatusResponse = z.object({
  status: z.enum(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]),
  queue_position: z.number().int().nullish(),
  logs: z.array(z.object({ message: z.string() }).loose()).nullish(),
});
const FalWebhookBody = z.object({
  request_id: z.string(),
  gateway_request_id: z.string().nullish(),
  status: z.enum(["OK", "ERROR"]),
  payload: z.unknown().optional(),
  error: z.string().nullish(),
  payload_error: z.string().nullish(),
});

/** A model's output -> our outcome. Moderation happens later, on the downloaded bytes. */
export function outcomeFromOutput(data: unknown): ProviderOutcome {
  const parsed = FalImagesOutput.safeParse(data);
  if (!parsed.success) return { ok: false, code: "invalid_output", detail: "output did not match the expected shape" };
  if (parsed.data.images.length === 0) return { ok: false, code: "invalid_output", detail: "no images" };
  const images: OutputImage[] = parsed.data.images.map((i) => ({
    url: i.url,
    width: i.width ?? null,
    height: i.height ?? null,
    contentType: i.content_type ?? null,
  }));
  return { ok: true, images };
}

/** Fal error bodies are FastAPI-style: `detail` is a string or a list of {msg, type}. */
export function classifyFalError(status: number | null, body: unknown, errorText?: string | null): { code: FailureCode; detail: string } {
  const texts: string[] = errorText ? [errorText] : [];
  const detail = (body as { detail?: unknown } | null | undefined)?.detail;
  if (typeof detail === "string") texts.push(detail);
  if (Array.isArray(detail)) {
    for (const d of detail) {
      if (d && typeof d === "object") {
        const { msg, type } = d as { msg?: unknown; type?: unknown };
        if (typeof msg === "string") texts.push(msg);
        if (typeof type === "string") texts.push(type);
      }
    }
  }
  const all = texts.join(" | ").slice(0, 500);
  if (/content[_ ]policy|nsfw|safety|inappropriate/i.test(all)) return { code: "safety_refusal", detail: all };
  if (status === 422 || /status code: 422/.test(all)) return { code: "input_rejected", detail: all };
  return { code: "model_error", detail: all || `HTTP ${status ?? "?"}` };
}

// ---------------------------------------------------------------- transport

/** An HTTP failure seen by the injected fetch (429 and 5xx), before the client could retry it. */
export class FalHttpError extends ProviderError {
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(`Fal answered HTTP ${status}`, { transient: true, status });
    this.name = "FalHttpError";
    this.body = body;
  }
}

function requestUrl(input: RequestInfo | URL): URL {
  if (input instanceof URL) return input;
  if (typeof input === "string") return new URL(input);
  return new URL(input.url);
}

/** Fetch for the Fal client: origin rewrite, host allowlist, timeout, no in-process retries. */
export function createFalFetch(queueUrl: string, base: typeof fetch): typeof fetch {
  const target = new URL(queueUrl);
  const rewrite = target.origin !== FAL_QUEUE_ORIGIN;
  const prefix = target.pathname.replace(/\/$/, "");
  const falFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = requestUrl(input);
    if (url.origin !== FAL_QUEUE_ORIGIN && url.origin !== FAL_API_ORIGIN && url.origin !== FAL_RUN_ORIGIN) {
      // Storage uploads (rest.fal.ai) and anything else are refused outright.
      throw new ProviderError(`refused a call to ${url.origin}`, { transient: false, code: "internal" });
    }
    const finalUrl = rewrite ? new URL(`${prefix}${url.pathname}${url.search}`, target.origin) : url;
    let res: Response;
    try {
      res = await base(finalUrl.toString(), { ...init, signal: init?.signal ?? AbortSignal.timeout(CALL_TIMEOUT_MS) });
    } catch (err) {
      throw new ProviderError(`network error calling Fal: ${err instanceof Error ? err.name : "unknown"}`, { transient: true });
    }
    if (res.status === 429 || res.status >= 500) {
      const text = await res.text().catch(() => "");
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = null;
      }
      throw new FalHttpError(res.status, body);
    }
    return res;
  };
  return falFetch as typeof fetch;
}

/** Hosts Fal serves outputs from (its CDN); anything else in a result is refused. */
function isFalCdn(url: URL): boolean {
  if (url.protocol !== "https:") return false;
  const h = url.hostname;
  return h === "fal.media" || h.endsWith(".fal.media") || h === "fal.run" || h.endsWith(".fal.run") || (h === "storage.googleapis.com" && url.pathname.startsWith("/falserverless/"));
}

// ---------------------------------------------------------------- provider

export function createFalProvider(cfg: FalProviderConfig): ImageProvider {
  const baseFetch = cfg.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const falFetch = createFalFetch(cfg.queueUrl, baseFetch);
  const client: FalClient = createFalClient({ credentials: cfg.credentials, fetch: falFetch, suppressLocalCredentialsWarning: true });
  const localOrigin = new URL(cfg.queueUrl).origin;
  const isLocal = localOrigin !== FAL_QUEUE_ORIGIN;

  async function call<T>(op: () => Promise<T>, what: string): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      if (err instanceof ApiError) {
        const { code, detail } = classifyFalError(err.status, err.body);
        // 4xx other than rate limits will not change on retry.
        throw new ProviderError(`${what}: ${detail}`, { transient: false, code, status: err.status });
      }
      throw new ProviderError(`${what}: ${err instanceof Error ? err.name : "unknown error"}`, { transient: true });
    }
  }

  return {
    name: "fal",
    model: cfg.model,

    async submit(input) {
      let links: { mother: string; father: string } | undefined;
      if (cfg.inputs === "link") {
        if (!input.inputUrl) throw new ProviderError("this model needs input links", { transient: false, code: "internal" });
        links = { mother: await input.inputUrl("mother"), father: await input.inputUrl("father") };
      }
      const res = await call(
        () =>
          client.queue.submit(cfg.model, {
            input: toFalInput(input, links),
            webhookUrl: cfg.webhookUrl,
            headers: { "X-Fal-Store-IO": "0" },
            storageSettings: { expiresIn: FAL_OUTPUT_TTL_SECONDS },
          }),
        "submit",
      );
      const parsed = FalSubmitResponse.safeParse(res);
      if (!parsed.success) throw new ProviderError("submit: unexpected response", { transient: true });
      return { requestId: parsed.data.request_id };
    },

    async status(requestId): Promise<ProviderStatus> {
      const res = await call(() => client.queue.status(cfg.model, { requestId, logs: true }), "status");
      const parsed = FalStatusResponse.safeParse(res);
      if (!parsed.success) throw new ProviderError("status: unexpected response", { transient: true });
      const logs = (parsed.data.logs ?? []).slice(-5).map((l) => l.message.slice(0, 200));
      switch (parsed.data.status) {
        case "IN_QUEUE":
          return { state: "in_queue", queuePosition: parsed.data.queue_position ?? null, logs };
        case "IN_PROGRESS":
          return { state: "in_progress", logs };
        case "COMPLETED":
          return { state: "completed", logs };
      }
    },

    async result(requestId): Promise<ProviderOutcome> {
      try {
        const res = await call(() => client.queue.result(cfg.model, { requestId }), "result");
        return outcomeFromOutput(res.data);
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        // A finished request whose app answered 500 with a FastAPI detail is a
        // model failure; a bare 5xx or 429 is the gateway and worth retrying.
        if (err instanceof FalHttpError && err.status === 500 && err.body && typeof err.body === "object" && "detail" in err.body) {
          return { ok: false, ...classifyFalError(500, err.body) };
        }
        // Asked too early (a webhook racing the queue's own bookkeeping): try again later.
        if (err.status === 400 && /in progress/i.test(err.message)) throw new ProviderError(err.message, { transient: true, status: 400 });
        if (!err.transient) return { ok: false, code: err.code, detail: err.message };
        throw err;
      }
    },

    async cancel(requestId) {
      try {
        await call(() => client.queue.cancel(cfg.model, { requestId }), "cancel");
      } catch (err) {
        // 400 means it already finished: nothing left to cancel.
        if (err instanceof ProviderError && err.status === 400) return;
        throw err;
      }
    },

    async deletePayloads(requestId) {
      // Fal's platform API requires an admin-scoped key here; the model key is never sent.
      if (!cfg.adminCredentials) throw new ProviderError("payload deletion needs FAL_ADMIN_KEY", { transient: false, code: "internal" });
      const res = await falFetch(`${FAL_API_ORIGIN}/v1/models/requests/${encodeURIComponent(requestId)}/payloads`, {
        method: "DELETE",
        headers: { authorization: `Key ${cfg.adminCredentials}`, accept: "application/json", "idempotency-key": `delete-${requestId}` },
      });
      await res.body?.cancel();
      if (res.ok || res.status === 404) return;
      // 401/403: a missing or non-admin key, which a retry does not fix (an operator must).
      const transient = !(res.status === 401 || res.status === 403);
      throw new ProviderError(`payload deletion answered HTTP ${res.status}`, { transient, status: res.status, code: "internal" });
    },

    async moderate(image) {
      let res: Response;
      try {
        res = await falFetch(`${FAL_RUN_ORIGIN}/${MODERATION_MODEL}`, {
          method: "POST",
          headers: { authorization: `Key ${cfg.credentials}`, "content-type": "application/json", accept: "application/json", "x-fal-store-io": "0" },
          body: JSON.stringify({ image_url: dataUri(image.contentType, image.bytes) }),
        });
      } catch (err) {
        if (err instanceof ProviderError) throw err;
        throw new ProviderError("moderation call failed", { transient: true });
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text) as unknown;
      } catch {
        json = null;
      }
      if (!res.ok) {
        // A classifier that cannot judge the image must not let it through.
        throw new ProviderError(`moderation answered HTTP ${res.status}`, { transient: false, code: "invalid_output", status: res.status });
      }
      const parsed = FalModerationOutput.safeParse(json);
      if (!parsed.success) throw new ProviderError("moderation: unexpected response", { transient: true });
      return { flagged: parsed.data.nsfw_probability >= NSFW_THRESHOLD, nsfwProbability: parsed.data.nsfw_probability };
    },

    async download(url) {
      if (url.startsWith("data:")) {
        const m = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)$/i.exec(url);
        if (!m?.[2]) throw new ProviderError("output data URI is malformed", { transient: false, code: "invalid_output" });
        if (m[2].length > (MAX_OUTPUT_BYTES * 4) / 3 + 4) throw new ProviderError("output too large", { transient: false, code: "invalid_output" });
        return base64Decode(m[2]);
      }
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new ProviderError("output URL is malformed", { transient: false, code: "invalid_output" });
      }
      const allowed = isFalCdn(parsed) || (isLocal && parsed.origin === localOrigin);
      if (!allowed) throw new ProviderError(`output host ${parsed.hostname} is not Fal's`, { transient: false, code: "invalid_output" });
      let res: Response;
      try {
        // No credentials: CDN files need none, and our key must not leak to a CDN.
        // Redirects are not followed: a redirect could lead anywhere.
        res = await baseFetch(parsed.toString(), { redirect: "manual", signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      } catch (err) {
        throw new ProviderError(`output download failed: ${err instanceof Error ? err.name : "unknown"}`, { transient: true });
      }
      if (!res.ok) {
        await res.body?.cancel();
        const transient = res.status === 429 || res.status >= 500;
        throw new ProviderError(`output download answered HTTP ${res.status}`, { transient, code: "invalid_output", status: res.status });
      }
      const declared = Number(res.headers.get("content-length") ?? "0");
      if (declared > MAX_OUTPUT_BYTES) {
        await res.body?.cancel();
        throw new ProviderError("output too large", { transient: false, code: "invalid_output" });
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.length > MAX_OUTPUT_BYTES) throw new ProviderError("output too large", { transient: false, code: "invalid_output" });
      return bytes;
    },

    async verifyWebhook(headers, rawBody, nowMs): Promise<WebhookVerification> {
      const sig = await verifyFalSignature(headers, rawBody, nowMs, { jwksUrl: cfg.jwksUrl, fetch: baseFetch });
      if (!sig.ok) return sig;
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(rawBody)) as unknown;
      } catch {
        return { ok: false, reason: "malformed-body" };
      }
      const body = FalWebhookBody.safeParse(json);
      // The signature binds the header's request id; the body must agree with it.
      if (!body.success || body.data.request_id !== sig.requestId) return { ok: false, reason: "malformed-body" };
      if (body.data.status === "ERROR") {
        return { ok: true, delivery: { requestId: sig.requestId, outcome: { ok: false, ...classifyFalError(null, body.data.payload, body.data.error) } } };
      }
      // A payload Fal could not serialize arrives as null: fetch the result instead.
      const outcome = body.data.payload === null || body.data.payload === undefined ? null : outcomeFromOutput(body.data.payload);
      return { ok: true, delivery: { requestId: sig.requestId, outcome } };
    },
  };
}
