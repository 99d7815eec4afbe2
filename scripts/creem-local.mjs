#!/usr/bin/env node
/* global AbortSignal */
// Local fake Creem: the part of Creem's API BabyPic calls, and a hosted
// checkout page whose Pay button sends a correctly signed webhook, so a user
// can buy credits end to end on one machine. No money moves, nothing leaves
// the machine.
//
//   POST /v1/checkouts                   create a checkout (x-api-key) -> { id, checkout_url, status: "pending", ... }
//   GET  /v1/checkouts?checkout_id=<id>  retrieve it
//   GET  /checkout/<id>                  the hosted page ("Test payment — no money moves")
//   POST /checkout/<id>/pay              completes it: signed `checkout.completed` to the Worker, then 303 to success_url
//   POST /checkout/<id>/refund           test control: signed `refund.created` for a completed checkout
//   GET  /health
//
// Webhooks go to ${PUBLIC_API_URL}/v1/webhooks/creem with `creem-signature`
// = hex HMAC-SHA256 of the raw body under CREEM_WEBHOOK_SECRET, shaped like
// Creem's own events ({ id, eventType, created_at, object }).
//
// Configuration (flags win over environment, environment over files):
//   --port 8789 (or CREEM_LOCAL_PORT; 0 picks a free one)   --host 127.0.0.1
//   --api-url / PUBLIC_API_URL      default http://127.0.0.1:8787
//   CREEM_WEBHOOK_SECRET, CREEM_API_KEY   default: read from .dev.vars (npm run setup)
//   CREEM_PRODUCTS                  default: the top-level value in wrangler.toml
// When an API key is known, requests must carry it in x-api-key (else 403,
// like Creem); without one any non-empty key is accepted.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { redactLine } from "./lib/redact.mjs";
import { readBody } from "./lib/http.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAX_BODY = 64 * 1024;
const WEBHOOK_ATTEMPTS_MS = [0, 500, 1500, 4000];

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Creem-looking ids: a prefix and 22 random base62 characters. */
export function creemId(prefix) {
  let s = "";
  for (const b of randomBytes(22)) s += ALPHABET[b % 62];
  return `${prefix}_${s}`;
}

export function sign(secret, rawBody) {
  return createHmac("sha256", secret).update(rawBody).digest("hex");
}

/** "€4.99" -> { amount: 499, currency: "EUR" } (Creem amounts are in cents). */
export function parsePrice(price) {
  const symbols = { "€": "EUR", $: "USD", "£": "GBP" };
  const m = /^\s*([€$£]?)\s*(\d+)(?:[.,](\d{1,2}))?\s*([A-Z]{3})?\s*$/.exec(String(price ?? ""));
  if (!m) return { amount: 0, currency: "EUR" };
  const cents = Number(m[2]) * 100 + Number((m[3] ?? "0").padEnd(2, "0"));
  return { amount: cents, currency: m[4] ?? symbols[m[1]] ?? "EUR" };
}

function readDotEnv(path) {
  try {
    return existsSync(path) ? parseEnv(readFileSync(path, "utf8")) : {};
  } catch {
    return {};
  }
}

/** The first (top-level, development) CREEM_PRODUCTS in wrangler.toml. */
export function productsFromWrangler(path = `${ROOT}wrangler.toml`) {
  try {
    const m = /^CREEM_PRODUCTS\s*=\s*'([^']*)'/m.exec(readFileSync(path, "utf8"));
    return m ? JSON.parse(m[1]) : {};
  } catch {
    return {};
  }
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...headers });
  res.end(body);
}

function json(res, status, value) {
  send(res, status, JSON.stringify(value), { "content-type": "application/json" });
}

function html(res, status, body) {
  send(res, status, body, {
    "content-type": "text/html; charset=utf-8",
    // No scripts on the page; a form posts back here and is redirected to the app.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
  });
}

function page(title, inner) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;background:#f5f3f8;color:#1d1d1f;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#fff;border-radius:12px;box-shadow:0 4px 24px #0002;padding:2rem;max-width:26rem;width:calc(100% - 2rem)}
.banner{background:#fff4cc;border:1px solid #e6c200;border-radius:8px;padding:.6rem .8rem;font-weight:600;margin-bottom:1rem}
.price{font-size:2rem;font-weight:700;margin:.5rem 0}
button{font:inherit;font-weight:600;border:0;border-radius:8px;padding:.7rem 1.2rem;cursor:pointer;width:100%;margin-top:.5rem}
.pay{background:#6b3fa0;color:#fff}.cancel{background:#e9e6ef;color:#1d1d1f}small{color:#5f6368}
</style></head><body><main>${inner}</main></body></html>`;
}

/**
 * Starts the fake. Returns { url, server, checkouts, close() }. Exported for
 * the tests (test/node/creem-local.test.ts), which run it on a free port.
 */
export function startCreemLocal(options = {}) {
  const devVars = readDotEnv(`${ROOT}.dev.vars`);
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 8789;
  const apiUrl = (options.apiUrl ?? process.env.PUBLIC_API_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  const secret = options.webhookSecret ?? process.env.CREEM_WEBHOOK_SECRET ?? devVars.CREEM_WEBHOOK_SECRET ?? "";
  const apiKey = options.apiKey ?? process.env.CREEM_API_KEY ?? devVars.CREEM_API_KEY ?? "";
  let products = options.products;
  if (!products) {
    try {
      products = process.env.CREEM_PRODUCTS ? JSON.parse(process.env.CREEM_PRODUCTS) : productsFromWrangler();
    } catch {
      products = productsFromWrangler();
    }
  }
  const log = options.log ?? ((line) => console.log(redactLine(line)));
  const checkouts = new Map();
  let baseUrl = "";

  function entity(c) {
    return {
      id: c.id,
      mode: "test",
      object: "checkout",
      status: c.status,
      product: c.productId,
      units: 1,
      request_id: c.requestId,
      success_url: c.successUrl,
      metadata: c.metadata,
      checkout_url: `${baseUrl}/checkout/${c.id}`,
      ...(c.order ? { order: c.order } : {}),
    };
  }

  async function deliver(event) {
    const body = JSON.stringify(event);
    const signature = sign(secret, body);
    let last = { ok: false, status: 0, detail: "not sent" };
    for (const wait of WEBHOOK_ATTEMPTS_MS) {
      if (wait) await new Promise((r) => setTimeout(r, wait));
      try {
        const res = await fetch(`${apiUrl}/v1/webhooks/creem`, {
          method: "POST",
          headers: { "content-type": "application/json", "creem-signature": signature, "user-agent": "creem-local" },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        last = { ok: res.ok, status: res.status, detail: text.slice(0, 300) };
        // Like Creem: anything but 2xx is retried; 4xx other than 409 will not get better.
        if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 409 && res.status !== 429)) break;
      } catch (err) {
        last = { ok: false, status: 0, detail: err instanceof Error ? err.message : String(err) };
      }
    }
    log(`[creem-local] ${event.eventType} ${event.id} -> ${apiUrl}/v1/webhooks/creem: ${last.status || "unreachable"}`);
    return last;
  }

  function apiKeyOk(req) {
    const got = String(req.headers["x-api-key"] ?? "");
    if (!got) return false;
    if (!apiKey) return true;
    const a = Buffer.from(got);
    const b = Buffer.from(apiKey);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async function handle(req, res) {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const parts = url.pathname.split("/").filter(Boolean);

    if (req.method === "GET" && url.pathname === "/health") return json(res, 200, { status: "ok", checkouts: checkouts.size });

    if (url.pathname === "/v1/checkouts") {
      if (!apiKeyOk(req)) return json(res, 403, { status: 403, error: "Forbidden", message: ["Invalid API key"] });
      if (req.method === "GET") {
        const c = checkouts.get(url.searchParams.get("checkout_id") ?? "");
        return c ? json(res, 200, entity(c)) : json(res, 404, { status: 404, error: "Not Found", message: ["Checkout not found"] });
      }
      if (req.method !== "POST") return json(res, 405, { status: 405, error: "Method Not Allowed" });
      let body;
      try {
        body = JSON.parse((await readBody(req, MAX_BODY)).toString("utf8"));
      } catch {
        return json(res, 400, { status: 400, error: "Bad Request", message: ["body must be JSON"] });
      }
      const productId = typeof body?.product_id === "string" ? body.product_id : "";
      const product = products[productId];
      if (!product) return json(res, 400, { status: 400, error: "Bad Request", message: [`product_id ${productId || "(missing)"} does not exist`] });
      const c = {
        id: creemId("ch"),
        productId,
        product,
        requestId: typeof body.request_id === "string" ? body.request_id : null,
        successUrl: typeof body.success_url === "string" ? body.success_url : null,
        metadata: body.metadata && typeof body.metadata === "object" ? body.metadata : {},
        status: "pending",
        order: null,
      };
      checkouts.set(c.id, c);
      log(`[creem-local] checkout ${c.id} created for ${productId} (${product.name}, ${product.price})`);
      return json(res, 200, entity(c));
    }

    if (parts[0] === "checkout" && parts[1]) {
      const c = checkouts.get(parts[1]);
      if (!c) return html(res, 404, page("Checkout not found", "<h1>Checkout not found</h1><p>This test checkout does not exist (the fake keeps checkouts in memory only).</p>"));

      if (req.method === "GET" && parts.length === 2) {
        const { amount, currency } = parsePrice(c.product.price);
        const done = c.status === "completed";
        return html(
          res,
          200,
          page(
            `Pay ${c.product.name}`,
            `<div class="banner" role="note">Test payment — no money moves</div>
<h1>${escapeHtml(c.product.name)}</h1>
<p class="price">${escapeHtml(c.product.price)}</p>
<p><small>${escapeHtml(String(c.product.credits))} credits · ${escapeHtml(currency)} ${(amount / 100).toFixed(2)} · checkout <code>${escapeHtml(c.id)}</code></small></p>
${
  done
    ? "<p>This checkout is already paid.</p>"
    : `<form method="post" action="/checkout/${escapeHtml(c.id)}/pay"><button class="pay" type="submit">Pay ${escapeHtml(c.product.price)} (test)</button></form>`
}
${c.successUrl ? `<form method="get" action="${escapeHtml(new URL(c.successUrl).origin)}/billing"><input type="hidden" name="checkout" value="canceled"><button class="cancel" type="submit">Cancel</button></form>` : ""}
<p><small>Local fake of Creem's hosted checkout (scripts/creem-local.mjs). No card is asked for and nothing leaves this machine.</small></p>`,
          ),
        );
      }

      if (req.method === "POST" && parts[2] === "pay") {
        if (c.status !== "completed") {
          const { amount, currency } = parsePrice(c.product.price);
          const now = new Date().toISOString();
          const orderId = creemId("ord");
          c.order = {
            id: orderId,
            customer: "cust_local",
            product: c.productId,
            amount,
            currency,
            status: "paid",
            type: "onetime",
            transaction: creemId("tran"),
            created_at: now,
            updated_at: now,
          };
          c.status = "completed";
          const event = {
            id: creemId("evt"),
            eventType: "checkout.completed",
            created_at: Date.now(),
            object: {
              ...entity(c),
              product: { id: c.productId, name: c.product.name, price: amount, currency, billing_type: "onetime", status: "active" },
              customer: { id: "cust_local", object: "customer", email: "test-buyer@creem-local.invalid", name: "Test Buyer", country: "NL" },
            },
          };
          const delivered = await deliver(event);
          if (!delivered.ok) {
            c.status = "pending";
            c.order = null;
            return html(
              res,
              502,
              page(
                "Webhook failed",
                `<div class="banner">Test payment — no money moves</div><h1>The app did not accept the payment webhook</h1><p>${escapeHtml(apiUrl)}/v1/webhooks/creem answered ${escapeHtml(String(delivered.status || "nothing"))}.</p><pre>${escapeHtml(delivered.detail)}</pre><p><small>Is the Worker running, and does its CREEM_WEBHOOK_SECRET match this server's?</small></p>`,
              ),
            );
          }
        }
        if (!c.successUrl) return html(res, 200, page("Paid", "<h1>Payment complete (test)</h1>"));
        const to = new URL(c.successUrl);
        // Creem appends these to the success URL.
        to.searchParams.set("checkout_id", c.id);
        if (c.order) to.searchParams.set("order_id", c.order.id);
        to.searchParams.set("product_id", c.productId);
        if (c.requestId) to.searchParams.set("request_id", c.requestId);
        res.writeHead(303, { location: to.toString(), "cache-control": "no-store", "content-length": 0 });
        return res.end();
      }

      if (req.method === "POST" && parts[2] === "refund") {
        if (c.status !== "completed" || !c.order) return json(res, 409, { error: "only a completed checkout can be refunded" });
        const event = {
          id: creemId("evt"),
          eventType: "refund.created",
          created_at: Date.now(),
          object: {
            id: creemId("ref"),
            object: "refund",
            status: "succeeded",
            refund_amount: c.order.amount,
            refund_currency: c.order.currency,
            reason: "requested_by_customer",
            transaction: { id: c.order.transaction, object: "transaction", amount: c.order.amount, currency: c.order.currency, status: "refunded" },
            checkout: { id: c.id, object: "checkout", request_id: c.requestId, status: "completed", metadata: c.metadata },
            order: c.order,
            created_at: Date.now(),
          },
        };
        const delivered = await deliver(event);
        return json(res, delivered.ok ? 200 : 502, { delivered: delivered.ok, status: delivered.status });
      }
    }
    return json(res, 404, { status: 404, error: "Not Found" });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) json(res, err?.status ?? 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      baseUrl = `http://${host}:${typeof addr === "object" && addr ? addr.port : port}`;
      if (!secret) log("[creem-local] warning: no CREEM_WEBHOOK_SECRET (env or .dev.vars); webhooks will be rejected. Run npm run setup.");
      resolve({ url: baseUrl, server, checkouts, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.main) {
  const rawPort = argValue("--port") ?? process.env.CREEM_LOCAL_PORT ?? "8789";
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`[creem-local] --port must be a port number, not "${rawPort}"`);
    process.exit(2);
  }
  const app = await startCreemLocal({ port, host: argValue("--host"), apiUrl: argValue("--api-url") });
  console.log(`[creem-local] fake Creem on ${app.url} (test payments only; webhooks to ${(argValue("--api-url") ?? process.env.PUBLIC_API_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "")}/v1/webhooks/creem)`);
  const stop = () => app.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
