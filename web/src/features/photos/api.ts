/**
 * Parent photos: the upload key, the list of the user's photos, and sealing +
 * uploading one prepared photo (docs/architecture.md). The envelope comes from
 * worker/lib/upload-envelope.ts, the one implementation the Worker opens.
 */
import { useQuery } from "@tanstack/react-query";
import { sealUpload } from "#shared/upload-envelope";
import { publicApi } from "../../lib/api/client";
import { ApiError, unwrap } from "../../lib/api/problem";
import { signedInToken, type TokenSource } from "../../lib/api/signed-in-token";
import type { components } from "../../lib/api/schema";
import { xhrUpload, type UploadProgress } from "../../lib/upload";
import { useApi } from "../auth/useApi";

export type Photo = components["schemas"]["Photo"];
export type UploadKey = components["schemas"]["UploadKey"];

export const uploadKeyQuery = {
  queryKey: ["upload-key"],
  queryFn: async () => unwrap(await publicApi.GET("/v1/keys/upload")),
  // The API caches it for five minutes (worker/routes/keys.ts); a rotated-out key is handled below.
  staleTime: 5 * 60_000,
} as const;

export function useUploadKey() {
  return useQuery(uploadKeyQuery);
}

/** A photo can be reused while retention keeps it, with a margin for the time it takes to start. */
const REUSE_MARGIN_MS = 10 * 60_000;

export function isReusable(photo: Photo, now = Date.now()): boolean {
  return photo.url !== null && (photo.expiresAt === null || Date.parse(photo.expiresAt) - now > REUSE_MARGIN_MS);
}

export function usePhotos(enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: ["photos"],
    queryFn: async () => unwrap(await api.GET("/v1/photos", { params: { query: { limit: 24 } } })),
    enabled,
    // Thumbnail links live at most an hour; fetch fresh ones well before.
    staleTime: 60_000,
    refetchInterval: 20 * 60_000,
  });
}

function isPhoto(value: unknown): value is Photo {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["id"] === "string" && /^pho_[0-9a-f]{32}$/.test(v["id"]) && typeof v["width"] === "number" && typeof v["height"] === "number"
  );
}

export interface SealAndUploadInput {
  bytes: Uint8Array<ArrayBuffer>;
  /** Our internal user id (GET /v1/me `id`), bound into the envelope. */
  userId: string;
  getKey: (fresh: boolean) => Promise<UploadKey>;
  getToken: TokenSource;
  onUnauthorized?: () => void;
  onSealing?: () => void;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
}

export class UploadTooLarge extends Error {
  constructor(bytes: number, max: number) {
    super(
      `The prepared photo is ${Math.ceil(bytes / 1e6)} MB after encryption; the limit is ${Math.floor(max / 1e6)} MB. Choose a smaller photo.`,
    );
    this.name = "UploadTooLarge";
  }
}

/**
 * Seals the prepared JPEG to the current upload key, bound to the user and a
 * fresh upload id, and uploads it with byte progress. When the key was
 * rotated out meanwhile (`unknown_key`) it fetches the new key and seals again,
 * once.
 */
export async function sealAndUpload(input: SealAndUploadInput): Promise<Photo> {
  for (let attempt = 0; ; attempt++) {
    const key = await input.getKey(attempt > 0);
    input.onSealing?.();
    // A fresh id per attempt: the server refuses a reused one (409), by design.
    const uploadId = crypto.randomUUID();
    const sealed = await sealUpload({ publicJwk: key.publicKey, keyId: key.keyId, userId: input.userId, uploadId, bytes: input.bytes });
    if (sealed.byteLength > key.maxUploadBytes) throw new UploadTooLarge(sealed.byteLength, key.maxUploadBytes);
    try {
      const body = await xhrUpload({
        path: "/v1/photos",
        body: sealed,
        headers: {
          "Content-Type": "application/octet-stream",
          "X-Upload-Id": uploadId,
          "X-Upload-Content-Type": "image/jpeg",
          "X-Upload-Key-Id": key.keyId,
        },
        token: await signedInToken(input.getToken),
        onProgress: input.onProgress,
        onUnauthorized: input.onUnauthorized,
        signal: input.signal,
      });
      if (!isPhoto(body)) throw new ApiError(502, undefined);
      return body;
    } catch (err) {
      if (attempt === 0 && err instanceof ApiError && err.code === "unknown_key") continue;
      throw err;
    }
  }
}
