/** A local HTTP server standing in for the Worker's webhook endpoint, for the local fakes (scripts/*-local.mjs) to deliver to. */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: IncomingMessage["headers"];
  raw: Buffer;
}

export interface Receiver {
  url: string;
  close: () => Promise<void>;
}

/**
 * Listens on a free loopback port; every request is appended to `received`
 * and answered with `status()` and the JSON `body`. Returns its base URL.
 */
export async function startReceiver(received: Received[], status: () => number, body: string): Promise<Receiver> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(status(), { "content-type": "application/json" });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
