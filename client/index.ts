/**
 * The BabyPic API client for integrators, the CLI and the web app: typed
 * calls generated from the Worker's own /v1/openapi.json (openapi-fetch over
 * `web/src/lib/api/schema.d.ts`, refreshed by `npm run api:types`), plus the
 * steps that need more than one call:
 *
 * - `uploadPhoto()` seals the photo to the service's HPKE key with the
 *   documented envelope (docs/storage-format.md §1, worker/lib/upload-envelope.ts)
 *   and sends it with its upload id;
 * - `createGeneration()` always sends an Idempotency-Key and reuses it when
 *   it retries, so a lost answer never pays twice;
 * - `waitForGeneration()` polls until a final status;
 * - every request is retried on 429 and 503 after `Retry-After` (client/core.ts).
 *
 * Works in Node 22+ and browsers (fetch, WebCrypto). Errors are `BabyPicError`,
 * carrying the RFC 9457 problem (code, title, detail, request id).
 * Import it by name: `import { createBabyPicClient } from "#client"`.
 */
import type { Client } from "openapi-fetch";
import { sealUpload } from "#shared/upload-envelope";
import {
  asProblem,
  BabyPicError,
  createTransport,
  dataOf,
  type ClientOptions,
  type CreateGenerationInput,
  type Generation,
  type Me,
  type paths,
  type Photo,
  type PhotoType,
  type Schemas,
} from "./core.ts";

export * from "./core.ts";

const TERMINAL = new Set<Generation["status"]>(["completed", "failed", "canceled"]);

export interface BabyPicClient {
  /** The typed openapi-fetch client, for every documented operation. */
  api: Client<paths>;
  baseUrl: string;
  me(): Promise<Me>;
  uploadPhoto(bytes: Uint8Array, contentType: PhotoType): Promise<Photo>;
  createGeneration(input: CreateGenerationInput, opts?: { idempotencyKey?: string }): Promise<Generation>;
  getGeneration(id: string): Promise<Generation>;
  waitForGeneration(
    id: string,
    opts?: { intervalMs?: number; timeoutMs?: number; onProgress?: (g: Generation) => void },
  ): Promise<Generation>;
  /** The bytes of one output, through the owner-only download path. */
  downloadOutput(output: Schemas["GenerationOutput"]): Promise<{ bytes: Uint8Array; contentType: string }>;
  deleteGeneration(id: string): Promise<Schemas["DeletionReceipt"]>;
}

export function createBabyPicClient(opts: ClientOptions): BabyPicClient {
  const { api, baseUrl, send, sleep, attempts } = createTransport(opts);
  const data = dataOf;

  const client: BabyPicClient = {
    api,
    baseUrl,
    me: async () => data(await api.GET("/v1/me")),

    async uploadPhoto(bytes, contentType) {
      const me = await client.me();
      const key = await data(await api.GET("/v1/keys/upload"));
      const uploadId = crypto.randomUUID();
      // HPKE (RFC 9180) to the service's key; the associated data binds the key id, the user id and this upload id.
      const sealed = await sealUpload({ publicJwk: key.publicKey, keyId: key.keyId, userId: me.id, uploadId, bytes });
      if (sealed.byteLength > key.maxUploadBytes) {
        throw new BabyPicError(
          413,
          null,
          `The sealed photo is ${sealed.byteLength} bytes, over the ${key.maxUploadBytes}-byte limit: downsize it first.`,
        );
      }
      const res = await send(
        new Request(`${baseUrl}/v1/photos`, {
          method: "POST",
          headers: {
            "content-type": "application/octet-stream",
            "x-upload-id": uploadId,
            "x-upload-content-type": contentType,
            "x-upload-key-id": key.keyId,
          },
          body: sealed,
        }),
      );
      const body: unknown = await res.json().catch(() => null);
      if (!res.ok) throw new BabyPicError(res.status, asProblem(body));
      return body as Photo;
    },

    async createGeneration(input, o = {}) {
      // The same key and body always mean the same generation, so a retry after a lost answer charges once.
      const idempotencyKey = o.idempotencyKey ?? crypto.randomUUID();
      for (let attempt = 1; ; attempt++) {
        try {
          return await data(await api.POST("/v1/generations", { body: input, params: { header: { "idempotency-key": idempotencyKey } } }));
        } catch (err) {
          // A network failure (no answer at all): try again with the same key.
          if (err instanceof BabyPicError || attempt >= attempts) throw err;
          await sleep(500 * attempt);
        }
      }
    },

    getGeneration: async (id) => data(await api.GET("/v1/generations/{id}", { params: { path: { id } } })),

    async waitForGeneration(id, o = {}) {
      const interval = o.intervalMs ?? 1500;
      const deadline = Date.now() + (o.timeoutMs ?? 10 * 60_000);
      for (;;) {
        const g = await client.getGeneration(id);
        o.onProgress?.(g);
        if (TERMINAL.has(g.status)) return g;
        if (Date.now() > deadline) throw new BabyPicError(408, null, `Generation ${id} is still ${g.status}; gave up waiting.`);
        await sleep(interval);
      }
    },

    async downloadOutput(output) {
      const res = await send(new Request(new URL(output.downloadPath, `${baseUrl}/`)));
      if (!res.ok) throw new BabyPicError(res.status, asProblem(await res.json().catch(() => null)));
      return { bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get("content-type") ?? output.contentType };
    },

    deleteGeneration: async (id) => data(await api.DELETE("/v1/generations/{id}", { params: { path: { id } } })),
  };
  return client;
}
