/**
 * `GET /v1/docs`: browsable API reference, rendered on the server from the
 * same OpenAPI 3.1 document as `/v1/openapi.json`. No script at all and
 * nothing from another origin: the page's CSP allows only its own inline
 * stylesheet through a per-response nonce (CSP Level 3 §6.7.3.1), everything
 * else stays `'none'` like the rest of the API.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { base64UrlEncode } from "../lib/bytes";
import type { OpenAPIDocument } from "../lib/openapi";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { problem } from "../schemas/common";

const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"] as const;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch);

/** Inline `code` spans from the descriptions (CommonMark's backticks), after escaping. */
const prose = (s: unknown) => (typeof s === "string" ? escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>") : "");

const anchor = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Pretty JSON with `$ref`s turned into links to the schema section. */
function renderJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? "";
  return escapeHtml(text).replace(/&quot;#\/components\/schemas\/([A-Za-z0-9_.-]+)&quot;/g, (_m, name: string) => {
    return `&quot;<a href="#schema-${anchor(name)}">#/components/schemas/${name}</a>&quot;`;
  });
}

function schemaLink(schema: unknown): string {
  if (isRecord(schema) && typeof schema["$ref"] === "string") {
    const name = schema["$ref"].split("/").pop() ?? "";
    return `<a href="#schema-${anchor(name)}"><code>${escapeHtml(name)}</code></a>`;
  }
  return "";
}

function renderContent(content: unknown): string {
  if (!isRecord(content)) return "";
  let out = "";
  for (const [mediaType, media] of Object.entries(content)) {
    if (!isRecord(media)) continue;
    const schema = media["schema"];
    const example = media["example"] ?? (isRecord(schema) ? schema["example"] : undefined);
    out += `<div class="media"><span class="mt">${escapeHtml(mediaType)}</span> ${schemaLink(schema)}`;
    if (schema !== undefined && !schemaLink(schema)) out += `<details><summary>Schema</summary><pre>${renderJson(schema)}</pre></details>`;
    if (example !== undefined) out += `<details open><summary>Example</summary><pre>${renderJson(example)}</pre></details>`;
    out += `</div>`;
  }
  return out;
}

function renderParameters(params: unknown): string {
  if (!Array.isArray(params) || params.length === 0) return "";
  const rows = params
    .filter(isRecord)
    .map((p) => {
      const schema = isRecord(p["schema"]) ? p["schema"] : {};
      const type = typeof schema["type"] === "string" ? schema["type"] : "";
      return `<tr><td><code>${escapeHtml(String(p["name"] ?? ""))}</code></td><td>${escapeHtml(String(p["in"] ?? ""))}</td><td>${escapeHtml(type)}</td><td>${
        p["required"] === true ? "yes" : "no"
      }</td><td>${prose(p["description"] ?? schema["description"])}</td></tr>`;
    })
    .join("");
  return `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderOperation(method: string, path: string, op: Record<string, unknown>): string {
  const id = typeof op["operationId"] === "string" ? op["operationId"] : `${method}-${path}`;
  const secured = Array.isArray(op["security"]) && op["security"].length > 0;
  let out = `<section class="op" id="op-${anchor(id)}"><h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`;
  out += `<p class="summary">${prose(op["summary"])}${secured ? ' <span class="lock">Bearer token</span>' : ""}</p>`;
  if (op["description"]) out += `<p>${prose(op["description"])}</p>`;
  out += renderParameters(op["parameters"]);
  const body = op["requestBody"];
  if (isRecord(body)) out += `<h4>Request body${body["required"] === true ? "" : " (optional)"}</h4>${renderContent(body["content"])}`;
  const responses = op["responses"];
  if (isRecord(responses)) {
    out += `<h4>Responses</h4><dl class="responses">`;
    for (const [status, res] of Object.entries(responses)) {
      if (!isRecord(res)) continue;
      out += `<dt class="s${escapeHtml(status.charAt(0))}">${escapeHtml(status)}</dt><dd>${prose(res["description"])}${renderContent(res["content"])}</dd>`;
    }
    out += `</dl>`;
  }
  return out + `</section>`;
}

/** Renders the whole document; every value from it is escaped. */
export function renderDocsHtml(doc: OpenAPIDocument, nonce: string): string {
  const info = doc.info;
  const byTag = new Map<string, string[]>();
  const toc = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!isRecord(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isRecord(op)) continue;
      const tags = Array.isArray(op["tags"]) ? op["tags"].map(String) : [];
      const tag = tags[0] ?? "other";
      const id = typeof op["operationId"] === "string" ? op["operationId"] : `${method}-${path}`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, op)]);
      toc.set(tag, [
        ...(toc.get(tag) ?? []),
        `<li><a href="#op-${anchor(id)}"><span class="method ${method}">${method.toUpperCase()}</span> ${escapeHtml(path)}</a></li>`,
      ]);
    }
  }
  const tags = [...byTag.keys()].sort();
  const schemas = isRecord(doc.components?.schemas) ? Object.entries(doc.components.schemas) : [];
  const servers = (doc.servers ?? []).map((s) => `<code>${escapeHtml(s.url)}</code>`).join(", ");

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(info.title)} reference</title>
<style nonce="${nonce}">
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#5f6368;--line:#e3e3e8;--code:#f4f4f7;--accent:#6b3fa0}
@media (prefers-color-scheme:dark){:root{--fg:#ececf1;--bg:#16161a;--muted:#a0a0ab;--line:#2c2c33;--code:#222228;--accent:#c3a6ff}}
*{box-sizing:border-box}body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
.layout{display:grid;grid-template-columns:280px 1fr;min-height:100vh}nav{border-right:1px solid var(--line);padding:1rem;position:sticky;top:0;height:100vh;overflow:auto;font-size:13px}
nav ul{list-style:none;padding:0;margin:.25rem 0 1rem}nav li{margin:.15rem 0}nav a{color:var(--fg);text-decoration:none}nav a:hover{color:var(--accent)}
main{padding:1.5rem 2rem;max-width:980px}h1{margin-top:0}h2{border-bottom:1px solid var(--line);padding-bottom:.3rem;margin-top:2.5rem;text-transform:capitalize}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}pre{background:var(--code);padding:.75rem;border-radius:6px;overflow:auto}
:not(pre)>code{background:var(--code);padding:.05rem .3rem;border-radius:4px}a{color:var(--accent)}
.op{border:1px solid var(--line);border-radius:8px;padding:.5rem 1rem 1rem;margin:1rem 0}.op h3{margin:.5rem 0}
.method{display:inline-block;min-width:3.6em;text-align:center;font:600 11px/1.8 ui-monospace,monospace;border-radius:4px;color:#fff;background:#666;padding:0 .3em}
.get{background:#1f7a4d}.post{background:#2457a6}.put,.patch{background:#8a5a00}.delete{background:#b3261e}
.summary{font-weight:600}.lock{font-weight:400;font-size:12px;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 .35em}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{border-bottom:1px solid var(--line);text-align:left;padding:.3rem .4rem;vertical-align:top}
dl.responses dt{font:600 13px ui-monospace,monospace;margin-top:.6rem}dl.responses dd{margin:0 0 0 1.5rem}.s2{color:#1f7a4d}.s4{color:#b3261e}.s5{color:#8a5a00}
.media{margin:.3rem 0}.mt{color:var(--muted);font-size:13px}summary{cursor:pointer;color:var(--muted);font-size:13px}
@media (max-width:800px){.layout{grid-template-columns:1fr}nav{position:static;height:auto;border-right:0;border-bottom:1px solid var(--line)}}
</style>
</head>
<body>
<div class="layout">
<nav aria-label="Operations">
<p><strong>${escapeHtml(info.title)}</strong> ${escapeHtml(info.version)}</p>
<ul><li><a href="#overview">Overview</a></li><li><a href="#schemas">Schemas</a></li><li><a href="openapi.json">openapi.json</a></li></ul>
${tags.map((t) => `<p><strong>${escapeHtml(t)}</strong></p><ul>${(toc.get(t) ?? []).join("")}</ul>`).join("\n")}
</nav>
<main>
<h1 id="overview">${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${prose(info.description)}</p>
<p>Base URL: ${servers || "<code>/</code>"}. Machine-readable description: <a href="openapi.json"><code>/v1/openapi.json</code></a> (OpenAPI ${escapeHtml(doc.openapi)}).</p>
${tags.map((t) => `<h2 id="tag-${anchor(t)}">${escapeHtml(t)}</h2>\n${(byTag.get(t) ?? []).join("\n")}`).join("\n")}
<h2 id="schemas">Schemas</h2>
${schemas.map(([name, schema]) => `<section id="schema-${anchor(name)}"><h3><code>${escapeHtml(name)}</code></h3><pre>${renderJson(schema)}</pre></section>`).join("\n")}
</main>
</div>
</body>
</html>`;
}

/** A nonce per response (CSP3 requires it to be unguessable and never reused). */
function newNonce(): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(18)));
}

export function docsContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'none'",
    "script-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

/** The docs router; `document` is the app's own OpenAPI 3.1 document (built per request, so it lists every mounted route). */
export function docsRoutes(document: (c: Context<AppEnv>) => OpenAPIDocument) {
  return createRouter().openapi(
    createRoute({
      method: "get",
      path: "/docs",
      ...anonymous(),
      tags: ["meta"],
      operationId: "getDocs",
      summary: "Browsable API reference (HTML)",
      description: "This document rendered as one HTML page on the server: no scripts, nothing loaded from another origin.",
      responses: {
        200: { description: "The reference", content: { "text/html": { schema: z.string().openapi({ example: "<!doctype html>..." }) } } },
        429: problem("Rate limited (`rate_limited`); see `Retry-After`."),
      },
    }),
    (c) => {
      const nonce = newNonce();
      c.header("content-security-policy", docsContentSecurityPolicy(nonce));
      c.header("cache-control", "no-store");
      return c.html(renderDocsHtml(document(c), nonce), 200);
    },
  );
}
