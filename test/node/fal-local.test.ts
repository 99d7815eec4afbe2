/**
 * The local Fal server (scripts/fal-local.mjs) against the Worker's own Fal
 * adapter: what `npm start` runs must speak Fal's queue API the way the
 * adapter expects, sign webhooks the adapter verifies, and return an image
 * the pipeline's untrusted-image check accepts, clearly labelled NON-AI.
 * Its test modes (fail, nsfw, invalid output, dropped, duplicated and
 * redelivered webhooks, timeouts, delays) behave as documented, and it
 * speaks the real model's contract: required age_group and gender, output
 * {prompt, images, seed}, an admin-scoped key for payload deletion, results
 * gone after retention with X-Fal-Store-IO: 0, and Fal's 10 MB request cap.
 */
import { spawn } from "node:child_process";
import jpeg from "jpeg-js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFalProvider } from "../../worker/providers/fal";
import type { ImageProvider, SubmitInput } from "../../worker/providers/types";
import { validateImage } from "../../worker/services/image";
// @ts-expect-error: a plain ESM script without type declarations.
import { startFalLocal } from "../../scripts/fal-local.mjs";
import { startReceiver, type Received, type Receiver } from "./receiver";

const MODEL = "half-moon-ai/ai-baby-and-aging-generator/multi";
const MODEL_KEY = "local:key";
const ADMIN_KEY = "local-admin:secret";
const RETENTION_MS = 1500;

interface FalLocal {
  url: string;
  close: () => Promise<void>;
}

let receiver: Receiver;
let receiverStatuses: number[] = [];
const received: Received[] = [];
let fal: FalLocal;
let provider: ImageProvider;

function photo(w: number, h: number, r: number, g: number, b: number): Uint8Array {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([r, g, (b + i) & 0xff, 255], i * 4);
  return new Uint8Array(jpeg.encode({ data, width: w, height: h }, 80).data);
}

const submitInput: SubmitInput = {
  generationId: "gen_0123456789abcdef0123456789abcdef",
  mother: { contentType: "image/jpeg", bytes: photo(320, 400, 220, 120, 90) },
  father: { contentType: "image/jpeg", bytes: photo(400, 320, 60, 110, 200) },
  options: { gender: "girl", ageGroup: "newborn", resemblance: 0.6, images: 2 },
};

async function control(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${fal.url}/_control`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function until<T>(f: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function webhooksFor(id: string): Received[] {
  return received.filter((r) => r.headers["x-fal-webhook-request-id"] === id);
}

async function inspect(id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${fal.url}/_requests/${id}`)).json()) as Record<string, unknown>;
}

beforeAll(async () => {
  receiver = await startReceiver(received, () => receiverStatuses.shift() ?? 200, "{}");
  const hookUrl = `${receiver.url}/v1/webhooks/fal`;
  fal = (await startFalLocal({ port: 0, quiet: true, adminKey: ADMIN_KEY, retentionMs: RETENTION_MS })) as FalLocal;
  provider = createFalProvider({
    credentials: MODEL_KEY,
    adminCredentials: ADMIN_KEY,
    model: MODEL,
    queueUrl: fal.url,
    jwksUrl: `${fal.url}/.well-known/jwks.json`,
    webhookUrl: hookUrl,
  });
});

afterAll(async () => {
  await fal.close();
  await receiver.close();
});

beforeEach(async () => {
  receiverStatuses = [];
  await control({ mode: "ok", delayMs: 0 });
});

describe("happy: the Worker's adapter against the local Fal", () => {
  it("submits, signs a webhook the adapter verifies, and returns a labelled NON-AI preview the pipeline accepts", async () => {
    const { requestId } = await provider.submit(submitInput);
    const [hook] = await until(() => (webhooksFor(requestId).length ? webhooksFor(requestId) : undefined), "webhook");
    if (!hook) throw new Error("no webhook");
    const headers = new Headers(Object.entries(hook.headers).map(([k, v]) => [k, String(v)]));
    const verified = await provider.verifyWebhook(headers, new Uint8Array(hook.raw), Date.now());
    if (!verified.ok) throw new Error(`webhook refused: ${verified.reason}`);
    const outcome = verified.delivery.outcome;
    if (!outcome?.ok) throw new Error("expected images");
    expect(outcome.images).toHaveLength(2);

    expect(await provider.status(requestId)).toMatchObject({ state: "completed" });
    expect(await provider.result(requestId)).toMatchObject({ ok: true });

    const first = outcome.images[0];
    if (!first) throw new Error("no image");
    const bytes = await provider.download(first.url);
    const checked = validateImage(bytes, "image/jpeg");
    expect(checked).toMatchObject({ ok: true, value: { width: 512, height: 608 } });
    const img = jpeg.decode(bytes, { useTArray: true });
    const px = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
    // The yellow rule and the dark label band under the picture.
    expect(px(256, 514)[0]).toBeGreaterThan(200);
    expect(px(256, 514)[2]).toBeLessThan(90);
    expect(px(5, 600).every((c) => c < 60)).toBe(true);

    // What the server saw: our privacy headers, and it kept no input afterwards.
    const seen = await inspect(requestId);
    expect(seen["headers"]).toEqual({ "x-fal-store-io": "0", "x-fal-object-lifecycle-preference": '{"expiration_duration_seconds":3600}' });
    expect(seen["inputKept"]).toBe(false);

    await provider.deletePayloads(requestId);
    expect((await inspect(requestId))["deleted"]).toBe(true);
    await expect(provider.download(first.url)).rejects.toMatchObject({ code: "invalid_output" });
  });

  it("reports queue position and progress while a delayed request waits", async () => {
    await control({ mode: "delay", delayMs: 600 });
    const a = await provider.submit(submitInput);
    const b = await provider.submit(submitInput);
    expect(await provider.status(b.requestId)).toMatchObject({ state: "in_queue", queuePosition: 1 });
    await until(async () => ((await provider.status(a.requestId)).state === "in_progress" ? true : undefined), "in progress");
    await until(async () => ((await provider.status(b.requestId)).state === "completed" ? true : undefined), "completion");
    // The fake marks a request COMPLETED, then delivers its webhook: wait for the delivery before counting.
    await until(() => (webhooksFor(b.requestId).length ? true : undefined), "webhook");
    expect(webhooksFor(b.requestId)).toHaveLength(1);
  });
});

describe("error: test modes", () => {
  it("fail: an ERROR webhook and a 500 result the adapter calls a model error", async () => {
    await control({ mode: "fail" });
    const { requestId } = await provider.submit(submitInput);
    const [hook] = await until(() => (webhooksFor(requestId).length ? webhooksFor(requestId) : undefined), "webhook");
    const verified = await provider.verifyWebhook(new Headers(Object.entries(hook?.headers ?? {}).map(([k, v]) => [k, String(v)])), new Uint8Array(hook?.raw ?? []), Date.now());
    expect(verified).toMatchObject({ ok: true, delivery: { outcome: { ok: false, code: "model_error" } } });
    expect(await provider.result(requestId)).toMatchObject({ ok: false, code: "model_error" });
  });

  it("nsfw: refused by the safety filter", async () => {
    await control({ mode: "nsfw" });
    const { requestId } = await provider.submit(submitInput);
    await until(() => (webhooksFor(requestId).length ? true : undefined), "webhook");
    expect(await provider.result(requestId)).toMatchObject({ ok: false, code: "safety_refusal" });
  });

  it("invalid-output: the file is not an image and fails the pipeline's check", async () => {
    await control({ mode: "invalid-output" });
    const { requestId } = await provider.submit(submitInput);
    await until(async () => ((await provider.status(requestId)).state === "completed" ? true : undefined), "completion");
    const outcome = await provider.result(requestId);
    if (!outcome.ok) throw new Error("expected a (bad) image");
    const bytes = await provider.download(outcome.images[0]?.url ?? "");
    expect(validateImage(bytes).ok).toBe(false);
  });

  it("drop-webhook sends none (polling finds it); duplicate-webhook sends two", async () => {
    await control({ mode: "drop-webhook" });
    const dropped = await provider.submit(submitInput);
    await until(async () => ((await provider.status(dropped.requestId)).state === "completed" ? true : undefined), "completion");
    await control({ mode: "duplicate-webhook" });
    const doubled = await provider.submit(submitInput);
    await until(() => (webhooksFor(doubled.requestId).length === 2 ? true : undefined), "two webhooks");
    expect(webhooksFor(dropped.requestId)).toHaveLength(0);
  });

  it("redelivers a webhook the receiver refused (e.g. 409 before the submit was recorded)", async () => {
    receiverStatuses = [409];
    const { requestId } = await provider.submit(submitInput);
    await until(() => (webhooksFor(requestId).length === 2 ? true : undefined), "redelivery");
    expect((await inspect(requestId))["webhookDeliveries"]).toEqual([409, 200]);
  });

  it("timeout: never completes, and can be canceled", async () => {
    await control({ mode: "timeout" });
    const { requestId } = await provider.submit(submitInput);
    await until(async () => ((await provider.status(requestId)).state === "in_progress" ? true : undefined), "in progress");
    await provider.cancel(requestId);
    expect(webhooksFor(requestId)).toHaveLength(0);
  });
});

describe("security: what the local Fal refuses", () => {
  it("needs an Authorization: Key header, and never fetches URLs", async () => {
    const res = await fetch(`${fal.url}/${MODEL}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    const urlInput = await fetch(`${fal.url}/${MODEL}`, {
      method: "POST",
      headers: { authorization: "Key x", "content-type": "application/json" },
      body: JSON.stringify({ mother_image_urls: ["https://example.com/a.jpg"], father_image_urls: ["https://example.com/b.jpg"] }),
    });
    expect(urlInput.status).toBe(422);
    expect(JSON.stringify(await urlInput.json())).toContain("data URIs");
  });

  it("rejects unknown modes, and the CLI prints where it listens", async () => {
    const bad = await fetch(`${fal.url}/_control`, { method: "POST", body: JSON.stringify({ mode: "explode" }) });
    expect(bad.status).toBe(400);
    const child = spawn(process.execPath, ["scripts/fal-local.mjs", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => resolve(d.toString()));
      child.on("error", reject);
    });
    child.kill("SIGTERM");
    expect(line).toMatch(/^fal-local listening on http:\/\/127\.0\.0\.1:\d+ .*NON-AI/);
  });
});

const rawSubmit = (body: unknown, auth = `Key ${MODEL_KEY}`) =>
  fetch(`${fal.url}/${MODEL}`, { method: "POST", headers: { authorization: auth, "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
const tinyJpeg = `data:image/jpeg;base64,${Buffer.from(photo(256, 256, 10, 20, 30)).toString("base64")}`;

describe("the real model's contract", () => {
  it.each(["age_group", "gender"])("refuses a request without %s: 422 with FastAPI's detail list, nothing queued", async (field) => {
    const full: Record<string, unknown> = { mother_image_urls: [tinyJpeg], father_image_urls: [tinyJpeg], age_group: "baby", gender: "female" };
    const body = Object.fromEntries(Object.entries(full).filter(([k]) => k !== field));
    const res = await rawSubmit(body);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail: [{ loc: ["body", field], msg: "Field required", type: "missing" }] });
  });

  it("answers {prompt, images, seed} with the prompt the adapter sent, and no safety flag", async () => {
    const { requestId } = await provider.submit({ ...submitInput, options: { ...submitInput.options, ageGroup: "toddler", gender: "boy", images: 1 } });
    await until(async () => ((await provider.status(requestId)).state === "completed" ? true : undefined), "completion");
    const res = await fetch(`${fal.url}/half-moon-ai/ai-baby-and-aging-generator/requests/${requestId}`, { headers: { authorization: `Key ${MODEL_KEY}` } });
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["images", "prompt", "seed"]);
    expect(body["prompt"]).toBe("a portrait photo of a toddler boy, about two years old");
    expect(Number.isInteger(body["seed"])).toBe(true);
  });

  it("without a prompt, the model's default 'a newborn baby' is what runs", async () => {
    const res = await rawSubmit({ mother_image_urls: [tinyJpeg], father_image_urls: [tinyJpeg], age_group: "toddler", gender: "male" });
    const { request_id: id } = (await res.json()) as { request_id: string };
    const result = await until(async () => {
      const r = await fetch(`${fal.url}/half-moon-ai/ai-baby-and-aging-generator/requests/${id}`, { headers: { authorization: `Key ${MODEL_KEY}` } });
      return r.status === 200 ? ((await r.json()) as Record<string, unknown>) : undefined;
    }, "result");
    expect(result["prompt"]).toBe("a newborn baby");
  });

  it("refuses a body over Fal's 10 MB cap with 413", async () => {
    const big = JSON.stringify({ mother_image_urls: [`data:image/jpeg;base64,${"A".repeat(10 * 1024 * 1024)}`], father_image_urls: [tinyJpeg], age_group: "baby", gender: "male" });
    const count = async () => ((await (await fetch(`${fal.url}/_control`)).json()) as { requests: number }).requests;
    const before = await count();
    const res = await rawSubmit(big).catch(() => null);
    // The server answers 413 and stops reading; depending on timing the client may see the reset instead.
    expect(res === null || res.status === 413).toBe(true);
    expect(await count()).toBe(before);
    const ok = await rawSubmit({ mother_image_urls: [tinyJpeg], father_image_urls: [tinyJpeg], age_group: "baby", gender: "male" });
    expect(ok.status).toBe(200);
  });

  it("deletes payloads only for the admin-scoped key: 401 without a key, 403 with the model key", async () => {
    const { requestId } = await provider.submit(submitInput);
    await until(async () => ((await provider.status(requestId)).state === "completed" ? true : undefined), "completion");
    const url = `${fal.url}/v1/models/requests/${requestId}/payloads`;
    expect((await fetch(url, { method: "DELETE" })).status).toBe(401);
    expect((await fetch(url, { method: "DELETE", headers: { authorization: `Key ${MODEL_KEY}` } })).status).toBe(403);
    expect((await inspect(requestId))["deleted"]).toBe(false);
    const withModelKey = createFalProvider({ credentials: MODEL_KEY, adminCredentials: MODEL_KEY, model: MODEL, queueUrl: fal.url, jwksUrl: `${fal.url}/.well-known/jwks.json`, webhookUrl: "http://127.0.0.1:9/x" });
    await expect(withModelKey.deletePayloads(requestId)).rejects.toMatchObject({ transient: false, status: 403 });
    await provider.deletePayloads(requestId);
    expect((await inspect(requestId))["deleted"]).toBe(true);
  });

  it("with X-Fal-Store-IO: 0 the result is gone after the retention time", async () => {
    const { requestId } = await provider.submit(submitInput);
    await until(async () => ((await provider.status(requestId)).state === "completed" ? true : undefined), "completion");
    expect(await provider.result(requestId)).toMatchObject({ ok: true });
    expect((await inspect(requestId))["resultKept"]).toBe(true);
    await until(async () => ((await inspect(requestId))["resultKept"] === false ? true : undefined), "retention");
    const res = await fetch(`${fal.url}/half-moon-ai/ai-baby-and-aging-generator/requests/${requestId}`, { headers: { authorization: `Key ${MODEL_KEY}` } });
    expect(res.status).toBe(404);
  });

  it("moderation: the NSFW classifier judges a data URI; mode nsfw-output flags it", async () => {
    const image = { contentType: "image/jpeg", bytes: photo(64, 64, 1, 2, 3) };
    expect(await provider.moderate(image)).toMatchObject({ flagged: false });
    await control({ mode: "nsfw-output" });
    expect(await provider.moderate(image)).toMatchObject({ flagged: true, nsfwProbability: 0.97 });
  });
});

describe("fal-local: several images of one request differ (issue 19)", () => {
  it("composes 4 pairwise different pictures (crop, mirror, blend) from the same parents, each still labelled in its band", async () => {
    // @ts-expect-error: a plain ESM script without type declarations.
    const { composePreview, VARIANTS } = (await import("../../scripts/fal-local/preview.mjs")) as {
      composePreview: (a: { mother: unknown; father: unknown; fatherWeight: number; variant: number; caption: string }) => Uint8Array;
      VARIANTS: readonly unknown[];
    };
    // Asymmetric parents (a quadrant pattern), so a mirror or another crop shows.
    const parent = (a: number[], b: number[]) => {
      const w = 300;
      const h = 360;
      const data = new Uint8Array(w * h * 4);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([...(x < w / 3 === y < h / 2 ? a : b), 255] as number[], (y * w + x) * 4);
      return { width: w, height: h, data };
    };
    const mother = parent([230, 80, 60], [40, 40, 40]);
    const father = parent([30, 90, 220], [240, 240, 200]);
    expect(VARIANTS).toHaveLength(4);
    const faces = [0, 1, 2, 3].map((variant) => {
      const img = jpeg.decode(composePreview({ mother, father, fatherWeight: 0.5, variant, caption: `girl / baby / father 50% / ${variant + 1} of 4` }), { useTArray: true });
      expect([img.width, img.height]).toEqual([512, 608]);
      return img.data.subarray(0, 512 * 512 * 4);
    });
    for (let i = 0; i < faces.length; i++) {
      for (let j = i + 1; j < faces.length; j++) {
        let diff = 0;
        const a = faces[i] as Uint8Array;
        const b = faces[j] as Uint8Array;
        for (let k = 0; k < a.length; k += 4) diff += Math.abs((a[k] ?? 0) - (b[k] ?? 0)) + Math.abs((a[k + 2] ?? 0) - (b[k + 2] ?? 0));
        // Mean difference per pixel well above JPEG noise (a few units).
        expect(diff / (512 * 512), `images ${i + 1} and ${j + 1} differ`).toBeGreaterThan(10);
      }
    }
  });
});
