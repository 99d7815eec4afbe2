/**
 * BabyPic webhook receiver example: verifies each delivery with the svix
 * library (BabyPic signs per the Standard Webhooks spec, docs/api.md
 * "Webhooks") and answers 2xx quickly; anything else makes BabyPic retry.
 *
 * Run (Node >= 22.18, which strips TypeScript types natively):
 *   BABYPIC_WEBHOOK_SECRET=whsec_... PORT=8790 node examples/webhook-receiver.ts
 * While you rotate the secret, BabyPic signs with both the old and the new
 * secret for 24 hours, so switching BABYPIC_WEBHOOK_SECRET loses nothing.
 * Deduplicate on `webhook-id`: a retried delivery carries the same id.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Webhook } from "svix";

export interface BabyPicEvent {
  type: "generation.completed" | "generation.failed" | "export.ready" | "account.deleted" | "webhook.test";
  timestamp: string;
  data: Record<string, string | number | null>;
}

/** The verified event, or null when the signature, timestamp or body is wrong. */
export function verifyDelivery(secret: string, body: string, headers: Record<string, string | string[] | undefined>): BabyPicEvent | null {
  const h: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const v = headers[name];
    if (typeof v === "string") h[name] = v;
  }
  try {
    return new Webhook(secret).verify(body, h) as BabyPicEvent;
  } catch {
    return null;
  }
}

async function readBody(req: IncomingMessage, cap = 64 * 1024): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > cap) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** An HTTP server that verifies deliveries and hands each new event to `onEvent` once. */
export function createReceiver(secret: string, onEvent: (id: string, event: BabyPicEvent) => void): Server {
  const seen = new Set<string>();
  return createServer((req, res) => {
    void (async () => {
      const body = req.method === "POST" ? await readBody(req) : null;
      const event = body === null ? null : verifyDelivery(secret, body, req.headers);
      if (!event) {
        res.writeHead(400).end();
        return;
      }
      const id = String(req.headers["webhook-id"]);
      if (!seen.has(id)) {
        seen.add(id);
        onEvent(id, event);
      }
      res.writeHead(204).end();
    })();
  });
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const secret = process.env["BABYPIC_WEBHOOK_SECRET"] ?? "";
  if (!secret.startsWith("whsec_")) {
    console.error("Set BABYPIC_WEBHOOK_SECRET to the endpoint's whsec_... secret.");
    process.exit(2);
  }
  const port = Number(process.env["PORT"] ?? 8790);
  createReceiver(secret, (id, event) => console.log(JSON.stringify({ id, type: event.type, data: event.data }))).listen(port, "127.0.0.1", () => {
    console.log(`listening on http://127.0.0.1:${port}/ (register it in development; production needs https)`);
  });
}
