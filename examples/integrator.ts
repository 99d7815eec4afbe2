/**
 * BabyPic integrator example: the whole flow with an API key and only the
 * documented REST API (docs/api.md):
 *
 *   1. GET  /v1/me                 who the key acts for (our user id binds each upload)
 *   2. GET  /v1/keys/upload        the service's HPKE public key
 *   3. POST /v1/photos  x2         each photo sealed with the same library the web app uses
 *   4. POST /v1/generations        with an Idempotency-Key (safe to retry)
 *   5. GET  /v1/generations/{id}   poll until completed or failed (honours Retry-After)
 *   6. GET  outputs[0].url         the result through its signed, expiring link (no Authorization)
 *   7. DELETE /v1/generations/{id} and the photos
 *
 * Run (Node >= 22.18, which strips TypeScript types natively):
 *   BABYPIC_API_KEY=bp_... node examples/integrator.ts mother.jpg father.jpg [out.jpg]
 * Optional: BABYPIC_API_URL (default http://127.0.0.1:8787, the `npm start` API).
 * The key needs the scopes account:read, photos:write, generations:write and
 * generations:read; its user must have accepted the terms in the app once.
 */
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { sealUpload } from "../worker/lib/upload-envelope.ts";

const API = (process.env["BABYPIC_API_URL"] ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
const KEY = process.env["BABYPIC_API_KEY"] ?? "";

interface Problem {
  code: string;
  title: string;
  detail?: string;
  requestId: string;
}

class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  constructor(status: number, problem: Problem | null) {
    super(`${status} ${problem?.code ?? "error"}: ${problem?.detail ?? problem?.title ?? ""} (request ${problem?.requestId ?? "?"})`);
    this.status = status;
    this.problem = problem;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One API call with the key; retries 429 and 503 after Retry-After (RFC 9110 §10.2.3). */
async function call(path: string, init: RequestInit = {}, attempts = 5): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${KEY}`);
    const res = await fetch(`${API}${path}`, { ...init, headers });
    if ((res.status === 429 || res.status === 503) && attempt < attempts) {
      const wait = Number(res.headers.get("retry-after") ?? "1");
      await res.body?.cancel();
      await sleep(Math.min(Number.isFinite(wait) ? wait : 1, 60) * 1000);
      continue;
    }
    if (!res.ok) {
      const isProblem = (res.headers.get("content-type") ?? "").includes("application/problem+json");
      throw new ApiError(res.status, isProblem ? ((await res.json()) as Problem) : null);
    }
    return res;
  }
}

const TYPES: Record<string, "image/jpeg" | "image/png" | "image/webp"> = { ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp" };

interface UploadKey {
  keyId: string;
  publicKey: JsonWebKey;
  maxUploadBytes: number;
}

async function uploadPhoto(file: string, userId: string, key: UploadKey): Promise<string> {
  const type = TYPES[extname(file).toLowerCase()];
  if (!type) throw new Error(`${file}: use a .jpg, .png or .webp file`);
  const bytes = new Uint8Array(await readFile(file));
  const uploadId = randomUUID();
  // HPKE (RFC 9180) to the service's key; the associated data binds the key id, our user id and this upload id.
  const sealed = await sealUpload({ publicJwk: key.publicKey, keyId: key.keyId, userId, uploadId, bytes });
  if (sealed.byteLength > key.maxUploadBytes) throw new Error(`${file}: sealed upload is over ${key.maxUploadBytes} bytes; downsize it first`);
  const res = await call("/v1/photos", {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "x-upload-id": uploadId, "x-upload-content-type": type, "x-upload-key-id": key.keyId },
    body: sealed,
  });
  return ((await res.json()) as { id: string }).id;
}

interface Generation {
  id: string;
  status: "queued" | "submitted" | "completed" | "failed" | "canceled";
  progress: { percent: number; stage: string };
  error: { code: string; message: string } | null;
  outputs: { id: string; url: string | null; contentType: string }[];
}

export async function run(mother: string, father: string, out: string, log: (s: string) => void = console.log): Promise<{ generationId: string; bytes: number }> {
  if (!KEY.startsWith("bp_")) throw new Error("Set BABYPIC_API_KEY to an API key (bp_...) created in the app.");

  const me = (await (await call("/v1/me")).json()) as { id: string; credits: number };
  log(`acting for ${me.id}, ${me.credits} credits`);

  const key = (await (await fetch(`${API}/v1/keys/upload`)).json()) as UploadKey;
  const motherPhotoId = await uploadPhoto(mother, me.id, key);
  const fatherPhotoId = await uploadPhoto(father, me.id, key);
  log(`uploaded ${motherPhotoId} and ${fatherPhotoId}`);

  // The same Idempotency-Key and body always mean the same generation: retrying after a timeout never pays twice.
  const idempotencyKey = randomUUID();
  const created = await call("/v1/generations", {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
    body: JSON.stringify({ motherPhotoId, fatherPhotoId, gender: "surprise", ageGroup: "newborn", resemblance: 0.5, images: 1 }),
  });
  let gen = (await created.json()) as Generation;
  log(`generation ${gen.id} ${gen.status}`);

  const deadline = Date.now() + 10 * 60_000;
  while (gen.status === "queued" || gen.status === "submitted") {
    if (Date.now() > deadline) throw new Error(`generation ${gen.id} still ${gen.status} after 10 minutes`);
    await sleep(1500);
    gen = (await (await call(`/v1/generations/${gen.id}`)).json()) as Generation;
    log(`  ${gen.progress.stage} ${gen.progress.percent}%`);
  }
  if (gen.status !== "completed") throw new Error(`generation ${gen.id} ${gen.status}: ${gen.error?.message ?? "no reason given"}`);

  const first = gen.outputs[0];
  if (!first?.url) throw new Error(`generation ${gen.id} completed without an output link`);
  // A signed link: no Authorization header, valid for at most an hour, dead as soon as the image is deleted.
  const image = await fetch(new URL(first.url, API));
  if (!image.ok) throw new Error(`signed link answered ${image.status}`);
  const bytes = new Uint8Array(await image.arrayBuffer());
  await writeFile(out, bytes);
  log(`saved ${bytes.byteLength} bytes (${first.contentType}) to ${out}`);

  await call(`/v1/generations/${gen.id}`, { method: "DELETE" });
  for (const id of [motherPhotoId, fatherPhotoId]) {
    // Parent photos are deleted automatically when the generation finishes unless the user keeps them; 404 is fine.
    await call(`/v1/photos/${id}`, { method: "DELETE" }).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    });
  }
  const gone = await fetch(new URL(first.url, API));
  log(`deleted; the signed link now answers ${gone.status}`);
  return { generationId: gen.id, bytes: bytes.byteLength };
}

if (import.meta.main) {
  const [mother, father, out = "baby.jpg"] = process.argv.slice(2);
  if (!mother || !father) {
    console.error("usage: BABYPIC_API_KEY=bp_... node examples/integrator.ts mother.jpg father.jpg [out.jpg]");
    process.exit(2);
  }
  try {
    await run(mother, father, out);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
