/**
 * A fake of Fal's queue REST API for workerd tests, as msw handlers: the
 * same paths, bodies and status codes as queue.fal.run (submit on the full
 * model path; status/result/cancel on the app id without the sub-path), the
 * platform API's payload deletion (admin-scoped key only), a CDN for outputs,
 * the NSFW classifier on fal.run, and a JWKS with an Ed25519 key that signs
 * webhooks exactly like Fal does. It speaks the real model's schema: required
 * `age_group` and `gender` (422 with FastAPI's `detail` list otherwise), output
 * `{prompt, images, seed}` with no safety flag, and Fal's 10 MB request cap.
 */
import { SELF } from "cloudflare:test";
import { http, HttpResponse } from "msw";
import { beforeAll, beforeEach } from "vitest";
import jpeg from "jpeg-js";
import { sha256Hex, toHex, utf8 } from "../../worker/lib/bytes";
import { network } from "../network";
import { API } from "../helpers";

export const MODEL = "half-moon-ai/ai-baby-and-aging-generator/multi";
export const APP = "half-moon-ai/ai-baby-and-aging-generator";
export const QUEUE = "https://queue.fal.run";
export const CDN = "https://v3.fal.media/files/test";
export const JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json";
export const MODERATION_URL = "https://fal.run/fal-ai/imageutils/nsfw";
/** The model key and the separate admin-scoped key the test Worker is configured with (vitest.config.ts). */
export const MODEL_KEY = "test-fal-key-id:test-fal-key-secret";
export const ADMIN_KEY = "test-fal-admin-id:test-fal-admin-secret";
/** Fal's request size cap (fal-ai/fal#178: data URIs above 10 MB are refused). */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** The model's default prompt, used whenever a request sends none. */
export const DEFAULT_PROMPT = "a newborn baby";
const AGE_GROUPS = ["baby", "toddler", "preschool", "gradeschooler", "teen", "adult", "mid", "senior"];

// PKCS#8 (RFC 8410) wrapping of a fixed, test-only Ed25519 seed.
const TEST_KEY_PKCS8 = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
  ...Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff),
]);

/** A key Fal never published: signatures made with it must be refused. */
export async function randomSigningKey(): Promise<CryptoKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return pair.privateKey;
}

/** A noisy, valid JPEG made in-process (workerd tests cannot read files). */
export function makeJpeg(width: number, height: number, seed = 1): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  let x = seed * 2654435761;
  for (let i = 0; i < data.length; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = (x >>> 16) & 0xff;
    data[i + 1] = (i / 4 / width) & 0xff;
    data[i + 2] = ((i / 4) % width) & 0xff;
    data[i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data, width, height }, 75).data);
}

export type FakeMode = "ok" | "fail" | "nsfw" | "nsfw-flag" | "invalid-output" | "reject-input";

export interface FakeRequest {
  id: string;
  input: Record<string, unknown>;
  headers: Record<string, string>;
  webhookUrl: string | null;
  status: "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";
  mode: FakeMode;
  outputs: string[];
  canceled: boolean;
  payloadsDeleted: boolean;
}

export class FakeFal {
  readonly requests = new Map<string, FakeRequest>();
  readonly files = new Map<string, Uint8Array>();
  mode: FakeMode = "ok";
  /** HTTP status to answer the next N submit / status / result / CDN calls with. */
  failSubmit: { status: number; times: number } = { status: 500, times: 0 };
  failStatus: { status: number; times: number } = { status: 500, times: 0 };
  failCdn: { status: number; times: number } = { status: 503, times: 0 };
  /** HTTP status to answer the next N payload deletions with (e.g. 503 for an outage). */
  failDelete: { status: number; times: number } = { status: 503, times: 0 };
  /** What the NSFW classifier answers for every image (mode "nsfw-flag" raises it). */
  nsfwProbability = 0.02;
  calls = { submit: 0, status: 0, result: 0, cancel: 0, deletePayloads: 0, deleteRefused: 0, moderate: 0, cdn: 0, jwks: 0 };
  private privateKey: CryptoKey | null = null;
  private publicX = "";

  /**
   * Every fake uses the same signing key: the Worker caches Fal's JWKS per
   * isolate (as in production), so a new key per test would look like a
   * rotation. Tests that need a foreign key make one with `randomSigningKey`.
   */
  async init(): Promise<this> {
    const priv = await crypto.subtle.importKey("pkcs8", TEST_KEY_PKCS8, { name: "Ed25519" }, true, ["sign"]);
    const jwk = (await crypto.subtle.exportKey("jwk", priv)) as JsonWebKey;
    if (!jwk.x) throw new Error("no public key in JWK");
    this.publicX = jwk.x;
    this.privateKey = priv;
    return this;
  }

  /** Installs the handlers for the current test (msw resets after each test). */
  use(): this {
    network.use(...this.handlers());
    return this;
  }

  get last(): FakeRequest {
    const all = [...this.requests.values()];
    const r = all[all.length - 1];
    if (!r) throw new Error("no Fal request yet");
    return r;
  }

  /** Runs the "model": the request is done, outputs (or the error) are ready. */
  complete(id: string): FakeRequest {
    const r = this.requests.get(id);
    if (!r) throw new Error(`unknown request ${id}`);
    r.status = "COMPLETED";
    const n = Number(r.input["num_images"] ?? 1);
    if (r.mode === "nsfw-flag") this.nsfwProbability = 0.97;
    if (r.mode === "ok" || r.mode === "nsfw-flag" || r.mode === "invalid-output") {
      for (let i = 0; i < n; i++) {
        const name = `${id}-${i}.jpg`;
        this.files.set(name, r.mode === "invalid-output" ? utf8("<html>not an image</html>") : makeJpeg(320, 384, i + 7));
        r.outputs.push(`${CDN}/${name}`);
      }
    }
    return r;
  }

  /** The body Fal would deliver (and the result endpoint's answer). */
  resultOf(r: FakeRequest): { status: number; body: Record<string, unknown>; webhook: Record<string, unknown> } {
    const base = { request_id: r.id, gateway_request_id: r.id };
    if (r.mode === "fail") {
      const body = { detail: "CUDA out of memory" };
      return { status: 500, body, webhook: { ...base, status: "ERROR", error: "Invalid status code: 500", payload: body } };
    }
    if (r.mode === "nsfw") {
      const body = { detail: [{ loc: ["body"], msg: "NSFW content detected", type: "content_policy_violation" }] };
      return { status: 422, body, webhook: { ...base, status: "ERROR", error: "Invalid status code: 422", payload: body } };
    }
    if (r.mode === "reject-input") {
      const body = { detail: [{ loc: ["body", "mother_image_urls"], msg: "No face detected", type: "value_error" }] };
      return { status: 422, body, webhook: { ...base, status: "ERROR", error: "Invalid status code: 422", payload: body } };
    }
    // The real model's output: the prompt it used, the images and the seed; no safety flag.
    const payload = {
      prompt: typeof r.input["prompt"] === "string" ? r.input["prompt"] : DEFAULT_PROMPT,
      images: r.outputs.map((url) => ({ url, content_type: "image/jpeg", file_name: url.split("/").pop(), width: 320, height: 384 })),
      seed: 42,
    };
    return { status: 200, body: payload, webhook: { ...base, status: "OK", payload } };
  }

  /** A signed webhook request, with knobs to break it the ways attackers would. */
  async webhook(
    id: string,
    opts: { body?: string; timestamp?: number; signWith?: CryptoKey; tamper?: (body: string) => string; omit?: string; requestIdHeader?: string } = {},
  ): Promise<Response> {
    const r = this.requests.get(id);
    const body = opts.body ?? JSON.stringify(r ? this.resultOf(r).webhook : { request_id: id, status: "OK", payload: null });
    const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
    const headerId = opts.requestIdHeader ?? id;
    const message = utf8(`${headerId}\nfal-user-123\n${ts}\n${await sha256Hex(utf8(body))}`);
    const key = opts.signWith ?? this.privateKey;
    if (!key) throw new Error("init() first");
    const sig = toHex(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, message)));
    const headers = new Headers({
      "content-type": "application/json",
      "x-fal-webhook-request-id": headerId,
      "x-fal-webhook-user-id": "fal-user-123",
      "x-fal-webhook-timestamp": ts,
      "x-fal-webhook-signature": sig,
    });
    if (opts.omit) headers.delete(opts.omit);
    const sent = opts.tamper ? opts.tamper(body) : body;
    return SELF.fetch(`${API}/v1/webhooks/fal`, { method: "POST", headers, body: sent });
  }

  private handlers() {
    const take = (f: { status: number; times: number }) => {
      if (f.times <= 0) return null;
      f.times--;
      return HttpResponse.json({ detail: "upstream trouble" }, { status: f.status });
    };
    const find = (params: Record<string, string | readonly string[] | undefined>) => {
      const id = String(params["id"]);
      return this.requests.get(id) ?? null;
    };
    return [
      http.get(JWKS_URL, () => {
        this.calls.jwks++;
        return HttpResponse.json({ keys: [{ kty: "OKP", crv: "Ed25519", x: this.publicX, kid: "test", use: "sig" }] });
      }),
      http.post(`${QUEUE}/${MODEL}`, async ({ request }) => {
        this.calls.submit++;
        const failed = take(this.failSubmit);
        if (failed) return failed;
        if (!/^Key .+/.test(request.headers.get("authorization") ?? "")) return HttpResponse.json({ detail: "Unauthorized" }, { status: 401 });
        const raw = await request.arrayBuffer();
        if (raw.byteLength > MAX_REQUEST_BYTES) return HttpResponse.json({ detail: "Request body too large" }, { status: 413 });
        const input = JSON.parse(new TextDecoder().decode(raw)) as Record<string, unknown>;
        const invalid = validateModelInput(input);
        if (invalid) return HttpResponse.json(invalid, { status: 422 });
        const id = crypto.randomUUID();
        const headers: Record<string, string> = {};
        request.headers.forEach((v, k) => {
          if (k.startsWith("x-fal")) headers[k] = v;
        });
        this.requests.set(id, {
          id,
          input,
          headers,
          webhookUrl: new URL(request.url).searchParams.get("fal_webhook"),
          status: "IN_QUEUE",
          mode: this.mode,
          outputs: [],
          canceled: false,
          payloadsDeleted: false,
        });
        const base = `${QUEUE}/${APP}/requests/${id}`;
        return HttpResponse.json({ request_id: id, status: "IN_QUEUE", queue_position: 3, response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` });
      }),
      http.get(`${QUEUE}/${APP}/requests/:id/status`, ({ params, request }) => {
        this.calls.status++;
        const failed = take(this.failStatus);
        if (failed) return failed;
        const r = find(params);
        if (!r) return HttpResponse.json({ detail: "Request not found" }, { status: 404 });
        const logs = new URL(request.url).searchParams.get("logs") === "1" ? [{ message: "step 1", level: "INFO", source: "USER", timestamp: new Date().toISOString() }] : undefined;
        return HttpResponse.json({ status: r.status, ...(r.status === "IN_QUEUE" ? { queue_position: 2 } : {}), ...(logs ? { logs } : {}) }, { status: r.status === "COMPLETED" ? 200 : 202 });
      }),
      http.get(`${QUEUE}/${APP}/requests/:id`, ({ params }) => {
        this.calls.result++;
        const r = find(params);
        if (!r) return HttpResponse.json({ detail: "Request not found" }, { status: 404 });
        if (r.status !== "COMPLETED") return HttpResponse.json({ detail: "Request is still in progress" }, { status: 400 });
        const { status, body } = this.resultOf(r);
        return HttpResponse.json(body, { status });
      }),
      http.put(`${QUEUE}/${APP}/requests/:id/cancel`, ({ params }) => {
        this.calls.cancel++;
        const r = find(params);
        if (!r) return HttpResponse.json({ detail: "Request not found" }, { status: 404 });
        if (r.status === "COMPLETED") return HttpResponse.json({ status: "ALREADY_COMPLETED" }, { status: 400 });
        r.canceled = true;
        return HttpResponse.json({ status: "CANCELLATION_REQUESTED" }, { status: 202 });
      }),
      http.post(MODERATION_URL, async ({ request }) => {
        this.calls.moderate++;
        if (request.headers.get("authorization") !== `Key ${MODEL_KEY}`) return HttpResponse.json({ detail: "Unauthorized" }, { status: 401 });
        const body = (await request.json()) as { image_url?: unknown };
        if (typeof body.image_url !== "string" || !body.image_url.startsWith("data:image/")) {
          return HttpResponse.json({ detail: [{ loc: ["body", "image_url"], msg: "Field required", type: "missing" }] }, { status: 422 });
        }
        return HttpResponse.json({ nsfw_probability: this.nsfwProbability });
      }),
      http.delete("https://api.fal.ai/v1/models/requests/:id/payloads", ({ params, request }) => {
        // Fal's platform API: this endpoint needs an admin-scoped key.
        const auth = request.headers.get("authorization") ?? "";
        if (!/^Key .+/.test(auth)) {
          this.calls.deleteRefused++;
          return HttpResponse.json({ detail: "Missing authorization" }, { status: 401 });
        }
        if (auth !== `Key ${ADMIN_KEY}`) {
          this.calls.deleteRefused++;
          return HttpResponse.json({ detail: "This endpoint requires an ADMIN scoped key" }, { status: 403 });
        }
        const failed = take(this.failDelete);
        if (failed) return failed;
        this.calls.deletePayloads++;
        const r = find(params);
        if (!r) return HttpResponse.json({ detail: "Request not found" }, { status: 404 });
        r.payloadsDeleted = true;
        return HttpResponse.json({ cdn_delete_results: r.outputs.map((link) => ({ link, exception: null })) });
      }),
      http.get(`${CDN}/:name`, ({ params }) => {
        this.calls.cdn++;
        const failed = take(this.failCdn);
        if (failed) return failed;
        const bytes = this.files.get(String(params["name"]));
        if (!bytes) return HttpResponse.json({ detail: "File not found" }, { status: 404 });
        return new HttpResponse(bytes, { headers: { "content-type": "image/jpeg" } });
      }),
    ];
  }
}

/** The model's input schema as Fal checks it: FastAPI/pydantic 422 bodies for what is missing or wrong. */
export function validateModelInput(input: Record<string, unknown>): { detail: { loc: string[]; msg: string; type: string }[] } | null {
  const detail: { loc: string[]; msg: string; type: string }[] = [];
  for (const key of ["mother_image_urls", "father_image_urls", "age_group", "gender"]) {
    if (input[key] === undefined) detail.push({ loc: ["body", key], msg: "Field required", type: "missing" });
  }
  if (input["age_group"] !== undefined && !AGE_GROUPS.includes(String(input["age_group"]))) {
    detail.push({ loc: ["body", "age_group"], msg: `Input should be ${AGE_GROUPS.map((a) => `'${a}'`).join(", ")}`, type: "literal_error" });
  }
  if (input["gender"] !== undefined && input["gender"] !== "male" && input["gender"] !== "female") {
    detail.push({ loc: ["body", "gender"], msg: "Input should be 'male' or 'female'", type: "literal_error" });
  }
  return detail.length ? { detail } : null;
}

/**
 * The fake Fal of a whole test file: its signing key loaded once before all
 * tests, its handlers installed before each (msw resets them after every test).
 */
export function fakeFalForEachTest(): FakeFal {
  const fal = new FakeFal();
  beforeAll(async () => {
    await fal.init();
  });
  beforeEach(() => {
    fal.use();
  });
  return fal;
}

/** A new fake Fal before each test (no requests, counters at zero), its handlers installed, handed to `ready`. */
export function newFakeFalBeforeEach(ready: (fal: FakeFal) => void): void {
  beforeEach(async () => {
    ready((await new FakeFal().init()).use());
  });
}
