/**
 * The Fal adapter on its own (issue 4 §2): the option mapping, the privacy
 * guards of its transport (no storage uploads, no hosts but Fal's, no
 * credentials to the CDN), error classification, and the signature checks'
 * tagged reasons.
 */
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { classifyFalError, createFalFetch, createFalProvider, FalHttpError, NSFW_THRESHOLD, outcomeFromOutput, promptFor, toFalInput } from "../../worker/providers/fal";
import { verifyFalSignature } from "../../worker/providers/fal-webhook";
import { ProviderError, type SubmitInput } from "../../worker/providers/types";
import { network } from "../network";
import { ADMIN_KEY, FakeFal, JWKS_URL, makeJpeg, MODEL, MODEL_KEY, MODERATION_URL, newFakeFalBeforeEach, validateModelInput } from "./fake-fal";

const photo = { contentType: "image/jpeg", bytes: new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]) };
const input = (over: Partial<SubmitInput["options"]> = {}, generationId = "gen_0123456789abcdef0123456789abcdef"): SubmitInput => ({
  generationId,
  mother: photo,
  father: { ...photo, contentType: "image/png" },
  options: { gender: "boy", ageGroup: "newborn", resemblance: 0.25, images: 3, ...over },
});

function provider(queueUrl = "https://queue.fal.run") {
  return createFalProvider({ credentials: "id:secret", model: MODEL, queueUrl, jwksUrl: JWKS_URL, webhookUrl: "http://api.test/v1/webhooks/fal" });
}

describe("happy: option mapping", () => {
  it("maps our options to the model's input in one place, photos as data URIs", () => {
    expect(toFalInput(input())).toEqual({
      prompt: "a portrait photo of a newborn baby boy, a few weeks old",
      mother_image_urls: ["data:image/jpeg;base64,/9j/AQID"],
      father_image_urls: ["data:image/png;base64,/9j/AQID"],
      age_group: "baby",
      gender: "male",
      father_weight: 0.75,
      num_images: 3,
    });
    expect(toFalInput(input({ gender: "girl", ageGroup: "toddler", resemblance: 1 }))).toMatchObject({ gender: "female", age_group: "toddler", father_weight: 0 });
    expect(toFalInput(input({ ageGroup: "child", resemblance: 0 }))).toMatchObject({ age_group: "preschool", father_weight: 1 });
  });

  it("sends a prompt matched to the age group and gender (the model's default prompt is 'a newborn baby' whatever the age)", () => {
    const seen = new Map<string, string>();
    for (const ageGroup of ["newborn", "toddler", "child"] as const) {
      for (const gender of ["girl", "boy"] as const) {
        const sent = toFalInput(input({ ageGroup, gender }));
        const prompt = String(sent["prompt"]);
        expect(prompt).toBe(promptFor(ageGroup, gender === "girl" ? "female" : "male"));
        expect(prompt).toMatch(gender === "girl" ? /\bgirl\b/ : /\bboy\b/);
        seen.set(`${ageGroup}/${gender}`, prompt);
      }
    }
    // Only newborns are called newborn; toddlers and children name their own age.
    for (const g of ["girl", "boy"]) {
      expect(seen.get(`newborn/${g}`)).toMatch(/newborn/);
      expect(seen.get(`toddler/${g}`)).toMatch(/toddler.*two years/);
      expect(seen.get(`child/${g}`)).toMatch(/four years/);
      expect(seen.get(`toddler/${g}`)).not.toMatch(/newborn/);
      expect(seen.get(`child/${g}`)).not.toMatch(/newborn/);
    }
    expect(new Set(seen.values()).size).toBe(6);
    // "surprise" gets the prompt of the gender it was resolved to.
    const surprise = toFalInput(input({ gender: "surprise", ageGroup: "toddler" }));
    expect(surprise["prompt"]).toBe(promptFor("toddler", surprise["gender"] === "female" ? "female" : "male"));
  });

  it("decides 'surprise' once per generation, so a retried submit sends the same input", () => {
    const a = toFalInput(input({ gender: "surprise" }, "gen_0000000000000000000000000000000a"));
    const b = toFalInput(input({ gender: "surprise" }, "gen_0000000000000000000000000000000a"));
    const c = toFalInput(input({ gender: "surprise" }, "gen_0000000000000000000000000000000b"));
    expect(a["gender"]).toBe(b["gender"]);
    expect([a["gender"], c["gender"]].sort()).toEqual(["female", "male"]);
  });
});

describe("security: transport guards", () => {
  it("refuses every host but Fal's queue and platform APIs (no storage uploads)", async () => {
    const f = createFalFetch("https://queue.fal.run", (() => Promise.resolve(new Response("{}"))) as typeof fetch);
    await expect(f("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3", { method: "POST" })).rejects.toThrow(ProviderError);
    await expect(f("https://evil.example/half-moon-ai/x")).rejects.toThrow(/refused/);
    await expect(f("https://queue.fal.run/half-moon-ai/x")).resolves.toBeInstanceOf(Response);
  });

  it("rewrites Fal's origins to the local server when FAL_QUEUE_URL points there", async () => {
    const seen: string[] = [];
    const f = createFalFetch("http://127.0.0.1:8788", ((u: RequestInfo | URL) => {
      seen.push(String(u));
      return Promise.resolve(new Response("{}"));
    }) as typeof fetch);
    await f(`https://queue.fal.run/${MODEL}?fal_webhook=x`);
    await f("https://api.fal.ai/v1/models/requests/abc/payloads", { method: "DELETE" });
    expect(seen).toEqual([`http://127.0.0.1:8788/${MODEL}?fal_webhook=x`, "http://127.0.0.1:8788/v1/models/requests/abc/payloads"]);
  });

  it("turns 429/5xx into one transient error instead of sleeping through client retries", async () => {
    let calls = 0;
    network.use(
      http.post(`https://queue.fal.run/${MODEL}`, () => {
        calls++;
        return HttpResponse.json({ detail: "busy" }, { status: 503 });
      }),
    );
    const err = await provider().submit(input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FalHttpError);
    expect((err as ProviderError).transient).toBe(true);
    expect(calls).toBe(1);
  });

  it("downloads outputs only from Fal's CDN (https, no redirects, no credentials) or inline data URIs", async () => {
    let auth: string | null = "unset";
    network.use(
      http.get("https://v3.fal.media/files/x.jpg", ({ request }) => {
        auth = request.headers.get("authorization");
        return new HttpResponse(makeJpeg(16, 16), { headers: { "content-type": "image/jpeg" } });
      }),
    );
    const p = provider();
    expect((await p.download("https://v3.fal.media/files/x.jpg"))[0]).toBe(0xff);
    expect(auth).toBeNull();
    for (const bad of ["https://evil.example/x.jpg", "http://v3.fal.media/files/x.jpg", "https://fal.media.evil.example/x.jpg", "file:///etc/passwd", "not a url"]) {
      await expect(p.download(bad)).rejects.toMatchObject({ transient: false, code: "invalid_output" });
    }
    expect(Array.from(await p.download("data:image/png;base64,iVBORw0K"))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]);
    await expect(p.download("data:text/html;base64,PGgxPg==")).rejects.toMatchObject({ code: "invalid_output" });
    // The local server's files are allowed only when FAL_QUEUE_URL is that server.
    await expect(p.download("http://127.0.0.1:8788/files/a.jpg")).rejects.toMatchObject({ code: "invalid_output" });
  });
});

describe("error: classification", () => {
  it("tells safety refusals, rejected inputs and model errors apart", () => {
    expect(classifyFalError(422, { detail: [{ msg: "x", type: "content_policy_violation" }] }).code).toBe("safety_refusal");
    expect(classifyFalError(null, { detail: "NSFW content detected" }).code).toBe("safety_refusal");
    expect(classifyFalError(422, { detail: [{ msg: "No face detected", type: "value_error" }] }).code).toBe("input_rejected");
    expect(classifyFalError(null, null, "Invalid status code: 422").code).toBe("input_rejected");
    expect(classifyFalError(500, { detail: "CUDA out of memory" }).code).toBe("model_error");
    expect(outcomeFromOutput({ prompt: "p", images: [], seed: 1 })).toMatchObject({ ok: false, code: "invalid_output" });
    // The real model's output {prompt, images, seed} is accepted as is; it carries no safety flag.
    expect(outcomeFromOutput({ prompt: "p", images: [{ url: "https://v3.fal.media/a", width: 1, height: 1, content_type: "image/jpeg" }], seed: 7 })).toMatchObject({ ok: true });
    expect(outcomeFromOutput({ nope: 1 })).toMatchObject({ ok: false, code: "invalid_output" });
  });
});

describe("security: signature checks name their reason", () => {
  let fal: FakeFal;
  newFakeFalBeforeEach((fresh) => (fal = fresh));

  const now = () => Date.now();
  const headers = (h: Record<string, string>) => new Headers(h);
  const good = { "x-fal-webhook-request-id": "req-1", "x-fal-webhook-user-id": "u", "x-fal-webhook-timestamp": String(Math.floor(Date.now() / 1000)), "x-fal-webhook-signature": "a".repeat(128) };

  it.each([
    [{}, "missing-headers"],
    [{ ...good, "x-fal-webhook-timestamp": "soon" }, "malformed-headers"],
    [{ ...good, "x-fal-webhook-signature": "zz" }, "malformed-headers"],
    [{ ...good, "x-fal-webhook-request-id": "a b/../c" }, "malformed-headers"],
    [{ ...good, "x-fal-webhook-timestamp": String(Math.floor(Date.now() / 1000) - 1000) }, "stale-timestamp"],
    [good, "bad-signature"],
  ] as const)("%o -> %s", async (h, reason) => {
    const res = await verifyFalSignature(headers(h), new Uint8Array([1]), now(), { jwksUrl: JWKS_URL });
    expect(res).toEqual({ ok: false, reason });
    // Malformed calls are refused before any key is fetched.
    if (reason !== "bad-signature") expect(fal.calls.jwks).toBe(0);
  });

  it("reports unavailable keys (so the route answers 503 and Fal retries)", async () => {
    const res = await verifyFalSignature(headers(good), new Uint8Array([1]), now(), { jwksUrl: "https://jwks.invalid/none.json" });
    expect(res).toEqual({ ok: false, reason: "keys-unavailable" });
  });
});

describe("security: least privilege for payload deletion", () => {
  let fal: FakeFal;
  newFakeFalBeforeEach((fresh) => (fal = fresh));
  const make = (adminCredentials: string | null) =>
    createFalProvider({ credentials: MODEL_KEY, adminCredentials, model: MODEL, queueUrl: "https://queue.fal.run", jwksUrl: JWKS_URL, webhookUrl: "http://api.test/v1/webhooks/fal" });

  it("deletes payloads with the admin-scoped key only; the model key is refused there (403) and never retried as if transient", async () => {
    const p = make(ADMIN_KEY);
    const { requestId } = await p.submit(input());
    const seen: string[] = [];
    network.use(
      http.delete("https://api.fal.ai/v1/models/requests/:id/payloads", ({ request }) => {
        seen.push(request.headers.get("authorization") ?? "");
        return undefined;
      }),
    );
    await p.deletePayloads(requestId);
    expect(seen).toEqual([`Key ${ADMIN_KEY}`]);
    expect(fal.requests.get(requestId)?.payloadsDeleted).toBe(true);

    const withModelKey = make(MODEL_KEY);
    const { requestId: other } = await withModelKey.submit(input());
    await expect(withModelKey.deletePayloads(other)).rejects.toMatchObject({ transient: false, status: 403 });
    expect(fal.requests.get(other)?.payloadsDeleted).toBe(false);
  });

  it("without an admin key, deletion fails (non-transient) instead of sending the model key", async () => {
    const p = make(null);
    const { requestId } = await p.submit(input());
    const before = fal.calls.deleteRefused + fal.calls.deletePayloads;
    await expect(p.deletePayloads(requestId)).rejects.toMatchObject({ transient: false, message: expect.stringMatching(/FAL_ADMIN_KEY/) });
    expect(fal.calls.deleteRefused + fal.calls.deletePayloads).toBe(before);
  });
});

describe("happy: the real model's contract", () => {
  it("the fake refuses a request without age_group or gender (422, FastAPI detail list), like Fal", async () => {
    expect(validateModelInput({ mother_image_urls: ["x"], father_image_urls: ["y"] })).toEqual({
      detail: [
        { loc: ["body", "age_group"], msg: "Field required", type: "missing" },
        { loc: ["body", "gender"], msg: "Field required", type: "missing" },
      ],
    });
    const fal = (await new FakeFal().init()).use();
    const res = await fetch(`https://queue.fal.run/${MODEL}`, {
      method: "POST",
      headers: { authorization: `Key ${MODEL_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ mother_image_urls: ["data:image/jpeg;base64,AA"], father_image_urls: ["data:image/jpeg;base64,AA"] }),
    });
    expect(res.status).toBe(422);
    expect(fal.requests.size).toBe(0);
  });

  it("moderation posts the output as a data URI to Fal's NSFW classifier with X-Fal-Store-IO: 0 and reads nsfw_probability", async () => {
    const fal = (await new FakeFal().init()).use();
    let sent: { headers: Headers; body: unknown } | null = null;
    network.use(
      http.post(MODERATION_URL, async ({ request }) => {
        sent = { headers: request.headers, body: await request.clone().json() };
        return undefined;
      }),
    );
    const p = createFalProvider({ credentials: MODEL_KEY, model: MODEL, queueUrl: "https://queue.fal.run", jwksUrl: JWKS_URL, webhookUrl: "http://api.test/v1/webhooks/fal" });
    const bytes = makeJpeg(8, 8);
    expect(await p.moderate({ contentType: "image/jpeg", bytes })).toEqual({ flagged: false, nsfwProbability: 0.02 });
    const got = sent as { headers: Headers; body: unknown } | null;
    expect(got?.headers.get("x-fal-store-io")).toBe("0");
    expect(got?.body).toEqual({ image_url: expect.stringMatching(/^data:image\/jpeg;base64,/) });
    fal.nsfwProbability = NSFW_THRESHOLD;
    expect(await p.moderate({ contentType: "image/jpeg", bytes })).toEqual({ flagged: true, nsfwProbability: NSFW_THRESHOLD });
    network.use(http.post(MODERATION_URL, () => HttpResponse.json({ detail: "bad image" }, { status: 422 })));
    await expect(p.moderate({ contentType: "image/jpeg", bytes })).rejects.toMatchObject({ transient: false, code: "invalid_output" });
    network.use(http.post(MODERATION_URL, () => HttpResponse.json({ detail: "busy" }, { status: 503 })));
    await expect(p.moderate({ contentType: "image/jpeg", bytes })).rejects.toMatchObject({ transient: true });
  });
});
