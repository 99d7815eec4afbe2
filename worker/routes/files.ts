/**
 * `GET|HEAD /v1/files/:id?exp&disp&kid&sig`: the only route that serves image
 * and export bytes (docs/architecture.md). The query is a capability made by
 * services/signed-links.ts; there is no Authorization header, so the checks
 * are the MAC, the expiry and a D1 lookup of the object and its owner on every
 * hit.
 *
 * Every refusal (malformed, expired, too far ahead, unknown key id, bad
 * signature, no such object, owner deleted) is the same `403 link_invalid`
 * problem: the wire never tells a link for a missing object from a forged
 * one. The reason goes to the security log, never the signature.
 *
 * Bytes are decrypted as they stream. `Range` (RFC 9110 §14) is honoured for
 * one range; several ranges or a malformed header are ignored (200 with the
 * whole object, allowed by §14.2), an unsatisfiable one gets 416 with
 * `Content-Range: bytes *\/size`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError, problemResponse } from "../errors";
import { errorText, logger } from "../lib/log";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { requestMeta } from "../lib/request-meta";
import { problem } from "../schemas/common";
import { recordAudit, type AuditEvent } from "../services/audit";
import { logSecurityEvent } from "../services/security-log";
import { DISPOSITIONS, resolveSignedLink, type Disposition, type LinkedObject, type LinkRefusal } from "../services/signed-links";
import { openObjectStream } from "../services/storage";

/** Content types we ever store; anything else is served as opaque bytes. */
const SAFE_TYPES: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "application/zip": "zip",
};

const FileParams = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .openapi({ param: { name: "id", in: "path" }, example: "img_9f86d081884c7d659a2feaa0c55ad015" }),
});

const FileQuery = z.object({
  exp: z
    .string()
    .regex(/^\d{1,12}$/)
    .transform(Number)
    .openapi({ description: "Expiry, Unix seconds; at most one hour after issue.", example: "1795759200" }),
  disp: z.enum(DISPOSITIONS).openapi({ description: "`inline` to show, `attachment` to download." }),
  kid: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .openapi({ description: "Id of the signing key (rotation)." }),
  sig: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .openapi({ description: "base64url HMAC-SHA256 over `v1|objectId|ownerId|exp|disposition`." }),
});

const refused = problem(
  "The link is invalid, expired, or its object or account no longer exists (`link_invalid`). One answer for every reason, including an object that never existed.",
);

export const fileRoute = createRoute({
  method: "get",
  path: "/files/{id}",
  operationId: "getFilesById",
  ...anonymous(),
  tags: ["files"],
  summary: "Download an image or export through a signed link (also HEAD; supports Range)",
  description:
    "Links come from the API responses that list images or exports (`url`, `expiresAt`); they expire within an hour and stop working as soon as the object or the account is deleted. " +
    "Responses are `Cache-Control: private, no-store`, `Content-Security-Policy: sandbox`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.",
  request: { params: FileParams, query: FileQuery },
  responses: {
    200: {
      description: "The decrypted bytes",
      content: {
        "image/jpeg": { schema: z.string().openapi({ format: "binary" }) },
        "image/png": { schema: z.string().openapi({ format: "binary" }) },
        "image/webp": { schema: z.string().openapi({ format: "binary" }) },
        "application/zip": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
    206: { description: "The requested byte range (`Content-Range`)" },
    403: refused,
    416: problem("The range starts past the end of the object (`range_not_satisfiable`); see `Content-Range: bytes */size`."),
    429: problem("Rate limited (`rate_limited`); see `Retry-After`."),
  },
});

export const filesRoutes = createRouter();

async function refuse(c: Context<AppEnv>, reason: LinkRefusal, ownerId: string | null): Promise<never> {
  const s = c.get("services");
  await logSecurityEvent(s.db, reason === "bad-signature" ? "signature_failed" : "link_refused", requestMeta(c.req.raw, c.get("requestId")), s.now(), {
    reason,
    userId: ownerId,
    path: c.req.path,
  });
  throw new AppError("link_invalid");
}

export type ByteRange = { start: number; end: number };

/**
 * One `bytes=` range against `size` (RFC 9110 §14.1.2): the range, "ignore"
 * (absent, malformed or several ranges: serve everything), or "unsatisfiable".
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "ignore" | "unsatisfiable" {
  if (header === undefined) return "ignore";
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m) return "ignore";
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return "ignore";
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (b !== "" && Number(b) < start) return "ignore";
  if (start >= size) return "unsatisfiable";
  return { start, end: b === "" ? size - 1 : Math.min(Number(b), size - 1) };
}

function fileHeaders(obj: LinkedObject, disposition: Disposition): Headers {
  const ext = SAFE_TYPES[obj.contentType];
  const h = new Headers({
    "content-type": ext ? obj.contentType : "application/octet-stream",
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox",
    "referrer-policy": "no-referrer",
    "accept-ranges": "bytes",
    // Server-made: never a user-supplied name (no header injection, no path tricks).
    "content-disposition": `${disposition}; filename="babypic-${obj.kind}-${obj.id.slice(-8).replace(/[^A-Za-z0-9]/g, "")}.${ext ?? "bin"}"`,
  });
  return h;
}

filesRoutes.openapi(
  fileRoute,
  async (c) => {
    const s = c.get("services");
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const link = await resolveSignedLink(s, { objectId: id, exp: q.exp, disposition: q.disp, kid: q.kid, sig: q.sig });
    if (!link.ok) return refuse(c, link.reason, link.ownerId);
    const obj = link.object;
    const meta = requestMeta(c.req.raw, c.get("requestId"));
    const headers = fileHeaders(obj, q.disp);

    const range = parseRange(c.req.header("range"), obj.bytes);
    if (range === "unsatisfiable") {
      headers.set("content-range", `bytes */${obj.bytes}`);
      headers.delete("content-type");
      return problemResponse(new AppError("range_not_satisfiable", `The file has ${obj.bytes} bytes.`), c.get("requestId"), c.req.path, headers);
    }
    const byteRange = range === "ignore" ? undefined : range;
    const isHead = c.req.method === "HEAD";

    let body: ReadableStream<Uint8Array> | null = null;
    let length = byteRange ? byteRange.end - byteRange.start + 1 : obj.bytes;
    if (!isHead) {
      const opened = await openObjectStream(s, obj.ownerId, obj.id, byteRange);
      // Deleted (or its key shredded) between the lookup and the read.
      if (!opened) return refuse(c, "not-found", obj.ownerId);
      length = opened.size;
      // A fixed length gives the client Content-Length, and a decryption
      // failure mid-way aborts the body instead of passing as a short file.
      const fixed = new FixedLengthStream(length);
      opened.stream.pipeTo(fixed.writable).catch((err: unknown) => {
        logger.error("files.stream_failed", { objectId: obj.id, requestId: meta.requestId, error: errorText(err) });
      });
      body = fixed.readable;
    }

    const now = s.now();
    const target = { type: "object", id: obj.id };
    const detail = {
      disposition: q.disp,
      method: isHead ? "HEAD" : "GET",
      range: byteRange ? `${byteRange.start}-${byteRange.end}` : null,
    };
    const actor = { type: "user", id: null } as const;
    const events: AuditEvent[] = [{ userId: obj.ownerId, actor, action: "link.used", target, detail, meta }];
    if (!isHead && q.disp === "attachment" && (byteRange === undefined || byteRange.start === 0)) {
      events.push({ userId: obj.ownerId, actor, action: obj.kind === "export" ? "export.downloaded" : "file.downloaded", target, meta });
    }
    // One insert batch for both entries before the bytes go out; chained after the answer (docs/decisions/0018).
    await recordAudit(s, events, now);

    headers.set("content-length", String(length));
    if (byteRange) headers.set("content-range", `bytes ${byteRange.start}-${byteRange.start + length - 1}/${obj.bytes}`);
    return new Response(body, { status: byteRange ? 206 : 200, headers });
  },
  (result, c) => {
    if (!result.success) return refuse(c, "malformed", null);
  },
);
