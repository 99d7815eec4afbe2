#!/usr/bin/env node
/* global AbortSignal */
// Local Fal server: speaks the subset of Fal's queue REST API BabyPic uses, so
// the whole pipeline runs on one machine with nothing leaving it.
//
//   POST   /<model id>[?fal_webhook=<url>]            submit -> request_id, status/response/cancel URLs
//   GET    /<app>/requests/<id>/status[?logs=1]       IN_QUEUE (queue_position) | IN_PROGRESS | COMPLETED
//   GET    /<app>/requests/<id>                       the result (or the model's error)
//   PUT    /<app>/requests/<id>/cancel                202 CANCELLATION_REQUESTED | 400 ALREADY_COMPLETED
//   DELETE /v1/models/requests/<id>/payloads          forgets the request's input and output files (admin key only)
//   POST   /fal-ai/imageutils/nsfw                     the NSFW classifier (fal.run, synchronous): {nsfw_probability}
//   GET    /files/<id>.jpg                            output files ("CDN")
//   GET    /.well-known/jwks.json                     the Ed25519 key webhooks are signed with
//   GET|POST /_control {mode, delayMs}                test controls (below); GET /_requests/<id> inspects one
//
// Like Fal, status/result/cancel paths use the app id without the model's
// sub-path, every call needs `Authorization: Key ...` (FAL_LOCAL_KEY, when set,
// must match), and webhooks carry X-Fal-Webhook-{Request-Id,User-Id,
// Timestamp,Signature}: Ed25519 over "request_id\nuser_id\ntimestamp\n
// hex(sha256(body))", redelivered with backoff on any non-2xx answer.
// Like the real model it requires `age_group` and `gender` (422 with
// FastAPI's `detail` list otherwise), answers `{prompt, images, seed}` (no
// safety flag; the prompt defaults to "a newborn baby"), refuses bodies over
// 10 MB (413), and deletes payloads only for the admin-scoped key
// (FAL_LOCAL_ADMIN_KEY: 401 without a key, 403 with another one). With
// `X-Fal-Store-IO: 0` the result is gone RETENTION_MS after completion
// (FAL_LOCAL_RETENTION_MS, default 10 minutes), and output files go when
// `X-Fal-Object-Lifecycle-Preference` says.
//
// The "model" returns a NON-AI preview composed from the two parent photos
// (data URIs only: this server never fetches a URL) with a "PREVIEW — NOT AI"
// band. Modes (POST /_control): ok | fail | delay | timeout | duplicate-webhook
// | drop-webhook | invalid-output | nsfw | nsfw-output (the classifier flags
// every image); delayMs sets the processing time.
//
// Usage: node scripts/fal-local.mjs [--port 8788] [--host 127.0.0.1]
//        (port also from FAL_LOCAL_PORT; --port 0 picks a free one)
import { createHash, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { composePreview, decodeImage, parseDataUri } from "./fal-local/preview.mjs";
import { readBody } from "./lib/http.mjs";
import { redactLine } from "./lib/redact.mjs";

export const MODES = ["ok", "fail", "delay", "timeout", "duplicate-webhook", "drop-webhook", "invalid-output", "nsfw", "nsfw-output"];
/** Fal refuses request bodies over 10 MB (data URIs beyond that do not work: fal-ai/fal#178). */
export const MAX_BODY = 10 * 1024 * 1024;
export const DEFAULT_PROMPT = "a newborn baby";
export const MODERATION_PATH = "/fal-ai/imageutils/nsfw";
const WEBHOOK_USER_ID = "fal-local-user";
const WEBHOOK_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 16000, 32000];
const AGE_GROUPS = ["baby", "toddler", "preschool", "gradeschooler", "teen", "adult", "mid", "senior"];

function json(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

const validation = (loc, msg, type = "value_error") => ({ detail: [{ loc: ["body", loc], msg, type }] });

/** Checks the model input like the real endpoint would; returns an error body or null. */
function checkInput(input) {
  if (!input || typeof input !== "object") return validation("", "body must be a JSON object");
  for (const key of ["mother_image_urls", "father_image_urls"]) {
    const list = input[key];
    if (!Array.isArray(list) || list.length === 0) return validation(key, "field required: a non-empty list of image URLs");
    for (const u of list) {
      if (typeof u !== "string") return validation(key, "must be strings");
      if (!u.startsWith("data:")) return validation(key, "fal-local never fetches URLs: send images as data URIs");
      if (!parseDataUri(u)) return validation(key, "malformed data URI");
    }
  }
  for (const key of ["age_group", "gender"]) {
    if (input[key] === undefined) return validation(key, "Field required", "missing");
  }
  if (input.prompt !== undefined && typeof input.prompt !== "string") return validation("prompt", "Input should be a valid string", "string_type");
  if (!AGE_GROUPS.includes(input.age_group)) return validation("age_group", `must be one of ${AGE_GROUPS.join(", ")}`);
  if (!["male", "female"].includes(input.gender)) return validation("gender", "must be male or female");
  if (input.father_weight !== undefined && !(typeof input.father_weight === "number" && input.father_weight >= 0 && input.father_weight <= 1)) {
    return validation("father_weight", "must be a number between 0 and 1");
  }
  if (input.num_images !== undefined && !(Number.isInteger(input.num_images) && input.num_images >= 1 && input.num_images <= 4)) {
    return validation("num_images", "must be an integer from 1 to 4");
  }
  return null;
}

/**
 * Starts the server; resolves with { url, port, close, control, requests }.
 * Exported so tests and benchmarks can run it in-process.
 */
export function startFalLocal({
  port = 8788,
  host = "127.0.0.1",
  key = process.env.FAL_LOCAL_KEY,
  adminKey = process.env.FAL_LOCAL_ADMIN_KEY,
  retentionMs = Number(process.env.FAL_LOCAL_RETENTION_MS ?? 600_000),
  quiet = false,
} = {}) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const kid = `fal-local-${randomUUID().slice(0, 8)}`;
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, use: "sig", alg: "EdDSA" };
  const control = { mode: "ok", delayMs: 0 };
  const requests = new Map();
  const files = new Map();
  const previews = new Map();
  const timers = new Set();
  const log = (...a) => {
    if (!quiet) console.log("[fal-local]", ...a.map((x) => (typeof x === "string" ? redactLine(x) : x)));
  };

  const later = (ms, fn) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  function queuePosition(r) {
    let n = 0;
    for (const other of requests.values()) if (other.status === "IN_QUEUE" && other.seq < r.seq) n++;
    return n;
  }

  function urls(base, r) {
    const app = `${base}/${r.appId}/requests/${r.id}`;
    return { response_url: app, status_url: `${app}/status`, cancel_url: `${app}/cancel` };
  }

  async function deliverWebhook(r, body) {
    const raw = Buffer.from(JSON.stringify(body));
    for (let attempt = 0; attempt <= WEBHOOK_RETRY_DELAYS_MS.length; attempt++) {
      if (r.deleted) return;
      const ts = String(Math.floor(Date.now() / 1000));
      const message = `${r.id}\n${WEBHOOK_USER_ID}\n${ts}\n${createHash("sha256").update(raw).digest("hex")}`;
      const signature = sign(null, Buffer.from(message), privateKey).toString("hex");
      try {
        const res = await fetch(r.webhookUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-fal-webhook-request-id": r.id,
            "x-fal-webhook-user-id": WEBHOOK_USER_ID,
            "x-fal-webhook-timestamp": ts,
            "x-fal-webhook-signature": signature,
          },
          body: raw,
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer().catch(() => undefined);
        r.webhookDeliveries.push(res.status);
        if (res.ok) return;
        log(`webhook for ${r.id} answered ${res.status}; retrying`);
      } catch (err) {
        r.webhookDeliveries.push(0);
        log(`webhook for ${r.id} failed (${err.cause?.code ?? err.name}); retrying`);
      }
      const delay = WEBHOOK_RETRY_DELAYS_MS[attempt];
      if (delay === undefined) return;
      await new Promise((resolve) => later(delay, resolve));
    }
  }

  function finish(r, base) {
    if (r.status === "CANCELED" || r.deleted) return;
    r.status = "COMPLETED";
    r.completedAt = Date.now();
    r.logs.push({ message: "done", level: "INFO", source: "USER", timestamp: new Date().toISOString() });
    const input = r.input;
    if (r.mode === "fail") {
      r.error = { status: 500, body: { detail: "fal-local: simulated model failure" }, text: "Invalid status code: 500" };
    } else if (r.mode === "nsfw") {
      r.error = {
        status: 422,
        body: { detail: [{ loc: ["body"], msg: "NSFW content detected in the output image", type: "content_policy_violation" }] },
        text: "Invalid status code: 422",
      };
    } else {
      const images = [];
      const n = input.num_images ?? 1;
      const options = `${input.gender} / ${input.age_group} / father ${Math.round((input.father_weight ?? 0.5) * 100)}%`;
      const key = createHash("sha256").update(`${input.mother_image_urls[0]}|${input.father_image_urls[0]}|${input.father_weight}|${options}`).digest("hex");
      let parents = null;
      for (let i = 0; i < n; i++) {
        let bytes = r.mode === "invalid-output" ? Buffer.from("this is not an image, whatever the content type says") : previews.get(`${key}|${i}`);
        if (!bytes) {
          parents ??= { mother: decodeImage(parseDataUri(input.mother_image_urls[0]).bytes), father: decodeImage(parseDataUri(input.father_image_urls[0]).bytes) };
          // Each image its own crop and blend (VARIANTS), numbered in its band: "2 of 4".
          const caption = n > 1 ? `${options} / ${i + 1} of ${n}` : options;
          bytes = composePreview({ ...parents, fatherWeight: input.father_weight ?? 0.5, variant: i, caption });
          // Same parents and options, same preview: keeps an "instant" model instant (benchmarks).
          previews.set(`${key}|${i}`, bytes);
          if (previews.size > 64) previews.delete(previews.keys().next().value);
        }
        const fileId = randomUUID();
        files.set(fileId, { bytes, requestId: r.id });
        r.files.push(fileId);
        images.push({ url: `${base}/files/${fileId}.jpg`, content_type: "image/jpeg", file_name: `${fileId}.jpg`, file_size: bytes.length, width: 512, height: 608 });
      }
      // The real model's output: the prompt it used, the images, the seed. No safety flag.
      r.result = { prompt: input.prompt ?? DEFAULT_PROMPT, images, seed: Math.floor(Math.random() * 2 ** 31) };
    }
    // X-Fal-Store-IO: 0 -> keep nothing of the input once it was used, and the result only for the retention time.
    if (r.storeIO === "0") {
      r.input = null;
      later(retentionMs, () => {
        r.result = null;
        r.error = null;
        r.expired = true;
      });
    }
    // Output files live as long as the object lifecycle preference asks (Fal's CDN keeps them otherwise).
    const lifecycle = lifecycleSeconds(r.headers["x-fal-object-lifecycle-preference"]);
    if (lifecycle !== null) {
      later(lifecycle * 1000, () => {
        for (const id of r.files) files.delete(id);
      });
    }
    if (!r.webhookUrl || r.mode === "drop-webhook") return;
    const body = r.error
      ? { request_id: r.id, gateway_request_id: r.id, status: "ERROR", error: r.error.text, payload: r.error.body }
      : { request_id: r.id, gateway_request_id: r.id, status: "OK", payload: r.result };
    void deliverWebhook(r, body);
    if (r.mode === "duplicate-webhook") void deliverWebhook(r, body);
  }

  function schedule(r, base) {
    if (r.mode === "timeout") {
      // Starts and never finishes: only a deadline on the caller's side ends it.
      later(Math.max(0, r.delayMs / 2), () => {
        if (r.status === "IN_QUEUE") r.status = "IN_PROGRESS";
      });
      return;
    }
    const total = r.mode === "delay" && r.delayMs === 0 ? 2000 : r.delayMs;
    later(Math.floor(total / 2), () => {
      if (r.status !== "IN_QUEUE") return;
      r.status = "IN_PROGRESS";
      r.logs.push({ message: "composing preview (not AI)", level: "INFO", source: "USER", timestamp: new Date().toISOString() });
      later(Math.ceil(total / 2), () => {
        try {
          finish(r, base);
        } catch (err) {
          r.status = "COMPLETED";
          r.error = { status: 500, body: { detail: `fal-local: ${err.message}` }, text: "Invalid status code: 500" };
        }
      });
    });
  }

  function lifecycleSeconds(header) {
    if (!header) return null;
    try {
      const v = JSON.parse(header).expiration_duration_seconds;
      return Number.isFinite(v) && v >= 0 ? v : null;
    } catch {
      return null;
    }
  }

  function authorized(req) {
    const h = req.headers.authorization ?? "";
    const m = /^Key (.+)$/.exec(h);
    if (!m) return false;
    return key ? m[1] === key || (adminKey !== undefined && m[1] === adminKey) : true;
  }

  const server = createServer(async (req, res) => {
    try {
      const base = `http://${req.headers.host ?? `${host}:${server.address().port}`}`;
      const url = new URL(req.url ?? "/", base);
      const path = url.pathname.replace(/\/+$/, "") || "/";

      if (req.method === "GET" && path === "/.well-known/jwks.json") return json(res, 200, { keys: [jwk] }, { "cache-control": "max-age=300" });
      if (path === "/_control") {
        if (req.method === "POST") {
          const body = JSON.parse((await readBody(req, MAX_BODY)).toString("utf8") || "{}");
          if (body.mode !== undefined && !MODES.includes(body.mode)) return json(res, 400, { detail: `mode must be one of ${MODES.join(", ")}` });
          if (body.delayMs !== undefined && !(Number.isInteger(body.delayMs) && body.delayMs >= 0 && body.delayMs <= 600_000)) {
            return json(res, 400, { detail: "delayMs must be an integer from 0 to 600000" });
          }
          if (body.mode !== undefined) control.mode = body.mode;
          if (body.delayMs !== undefined) control.delayMs = body.delayMs;
        }
        return json(res, 200, { ...control, requests: requests.size });
      }
      const fileMatch = /^\/files\/([0-9a-f-]{36})\.jpg$/.exec(path);
      if (req.method === "GET" && fileMatch) {
        const f = files.get(fileMatch[1]);
        if (!f) return json(res, 404, { detail: "File not found" });
        res.writeHead(200, { "content-type": "image/jpeg", "content-length": f.bytes.length });
        return res.end(f.bytes);
      }
      const inspect = /^\/_requests\/([0-9a-f-]{36})$/.exec(path);
      if (req.method === "GET" && inspect) {
        const r = requests.get(inspect[1]);
        if (!r) return json(res, 404, { detail: "Request not found" });
        return json(res, 200, {
          id: r.id,
          model: r.model,
          status: r.status,
          mode: r.mode,
          headers: r.headers,
          inputKept: r.input !== null,
          resultKept: r.result !== null,
          deleted: r.deleted,
          webhookUrl: r.webhookUrl,
          webhookDeliveries: r.webhookDeliveries,
          files: r.files.length,
        });
      }

      if (!authorized(req)) return json(res, 401, { detail: "Missing or invalid Authorization header (expected `Key <FAL_KEY>`)" });

      const payloads = /^\/v1\/models\/requests\/([^/]+)\/payloads$/.exec(path);
      if (payloads) {
        if (req.method !== "DELETE") return json(res, 405, { detail: "Method not allowed" });
        // Fal's platform API: payload deletion needs an admin-scoped key, never the model key.
        if (!adminKey || req.headers.authorization !== `Key ${adminKey}`) {
          return json(res, 403, { detail: "This endpoint requires an ADMIN scoped API key" });
        }
        const r = requests.get(payloads[1]);
        if (!r) return json(res, 404, { detail: "Request not found" });
        const results = r.files.map((id) => ({ link: `${base}/files/${id}.jpg`, exception: null }));
        for (const id of r.files) files.delete(id);
        r.input = null;
        r.result = null;
        r.deleted = true;
        log(`payloads of ${r.id} deleted`);
        return json(res, 200, { cdn_delete_results: results });
      }

      const idx = path.indexOf("/requests/");
      if (idx > 0) {
        const appId = path.slice(1, idx);
        const [id, action, extra] = path.slice(idx + "/requests/".length).split("/");
        const r = requests.get(id);
        if (!r || !(r.model === appId || r.model.startsWith(`${appId}/`)) || extra !== undefined) return json(res, 404, { detail: "Request not found" });
        if (action === "status" && req.method === "GET") {
          const body = { status: r.status === "CANCELED" ? "COMPLETED" : r.status, request_id: r.id, ...urls(base, r) };
          if (r.status === "IN_QUEUE") body.queue_position = queuePosition(r);
          if (url.searchParams.get("logs") === "1") body.logs = r.logs;
          return json(res, r.status === "COMPLETED" ? 200 : 202, body);
        }
        if (action === "cancel" && req.method === "PUT") {
          if (r.status === "IN_QUEUE" || r.status === "IN_PROGRESS") {
            r.status = "CANCELED";
            return json(res, 202, { status: "CANCELLATION_REQUESTED" });
          }
          return json(res, 400, { status: "ALREADY_COMPLETED" });
        }
        if (action === undefined && req.method === "GET") {
          if (r.status === "CANCELED") return json(res, 400, { detail: "Request was cancelled" });
          if (r.status !== "COMPLETED") return json(res, 400, { detail: "Request is still in progress" });
          if (r.expired) return json(res, 404, { detail: "Request payloads are no longer available (X-Fal-Store-IO: 0)" });
          if (r.error) return json(res, r.error.status, r.error.body);
          if (!r.result) return json(res, 404, { detail: "Request payloads were deleted" });
          return json(res, 200, r.result, { "x-fal-request-id": r.id });
        }
        return json(res, 405, { detail: "Method not allowed" });
      }

      if (req.method === "POST" && path === MODERATION_PATH) {
        let body;
        try {
          body = JSON.parse((await readBody(req, MAX_BODY)).toString("utf8"));
        } catch (err) {
          if (err.status === 413) return json(res, 413, { detail: "Request body too large" });
          return json(res, 422, validation("", "body must be JSON"));
        }
        if (typeof body?.image_url !== "string") return json(res, 422, validation("image_url", "Field required", "missing"));
        if (!body.image_url.startsWith("data:") || !parseDataUri(body.image_url)) {
          return json(res, 422, validation("image_url", "fal-local never fetches URLs: send the image as a data URI"));
        }
        return json(res, 200, { nsfw_probability: control.mode === "nsfw-output" ? 0.97 : 0.01 });
      }

      if (req.method === "POST" && path.length > 1) {
        const model = path.slice(1);
        let input;
        try {
          input = JSON.parse((await readBody(req, MAX_BODY)).toString("utf8"));
        } catch (err) {
          if (err.status === 413) return json(res, 413, { detail: "Request body too large" });
          return json(res, 422, validation("", "body must be JSON"));
        }
        const problem = checkInput(input);
        if (problem) return json(res, 422, problem);
        const webhookUrl = url.searchParams.get("fal_webhook");
        if (webhookUrl !== null && !/^https?:\/\//.test(webhookUrl)) return json(res, 422, validation("fal_webhook", "must be an http(s) URL"));
        const segments = model.split("/");
        const r = {
          id: randomUUID(),
          seq: requests.size,
          model,
          appId: segments.slice(0, 2).join("/"),
          input,
          status: "IN_QUEUE",
          mode: control.mode,
          delayMs: control.delayMs,
          webhookUrl,
          storeIO: req.headers["x-fal-store-io"] ?? null,
          headers: {
            "x-fal-store-io": req.headers["x-fal-store-io"] ?? null,
            "x-fal-object-lifecycle-preference": req.headers["x-fal-object-lifecycle-preference"] ?? null,
          },
          logs: [{ message: "queued", level: "INFO", source: "USER", timestamp: new Date().toISOString() }],
          files: [],
          result: null,
          error: null,
          deleted: false,
          expired: false,
          webhookDeliveries: [],
        };
        requests.set(r.id, r);
        log(`submit ${r.id} model=${model} mode=${r.mode} delayMs=${r.delayMs}`);
        schedule(r, base);
        return json(res, 200, { request_id: r.id, gateway_request_id: r.id, status: "IN_QUEUE", queue_position: queuePosition(r), ...urls(base, r) });
      }
      return json(res, 404, { detail: "Not found" });
    } catch (err) {
      log("error:", err.message);
      if (!res.headersSent) json(res, 500, { detail: "fal-local internal error" });
    }
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const actual = server.address().port;
      resolve({
        url: `http://${host}:${actual}`,
        port: actual,
        control,
        requests,
        close: () =>
          new Promise((done) => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

function parseArgs(argv) {
  const out = { port: Number(process.env.FAL_LOCAL_PORT ?? 8788), host: "127.0.0.1" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes("=") ? a.split("=")[1] : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--port" || a.startsWith("--port=")) out.port = Number(value());
    else if (a === "--host" || a.startsWith("--host=")) out.host = value();
    else if (a === "--help" || a === "-h") out.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error("--port must be 0..65535");
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`fal-local: ${err.message}`);
    process.exit(2);
  }
  if (args.help) {
    console.log("Usage: node scripts/fal-local.mjs [--port 8788] [--host 127.0.0.1]\nA local, NON-AI stand-in for Fal's queue API. See the header of this file.");
    process.exit(0);
  }
  const srv = await startFalLocal(args);
  console.log(`fal-local listening on ${srv.url} (JWKS at ${srv.url}/.well-known/jwks.json); outputs are NON-AI previews`);
  const stop = () => srv.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
