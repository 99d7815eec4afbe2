import { AppError } from "../errors";

/**
 * Reads a request body whole but never more than `max` bytes: a declared
 * Content-Length over the cap is refused before reading, and a body without
 * one (or lying about it) is cut off as soon as it passes the cap. Webhook
 * signatures cover the raw bytes, so callers verify exactly what this returns.
 * Returns null when the body is over the cap.
 */
export async function readBodyCapped(req: Request, max: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) return null;
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The raw body of a webhook delivery, or a 413 `payload_too_large` problem. */
export async function readWebhookBody(req: Request, max: number): Promise<Uint8Array<ArrayBuffer>> {
  const body = await readBodyCapped(req, max);
  if (!body) throw new AppError("payload_too_large", `Webhook bodies are at most ${max} bytes.`);
  return body;
}
