/**
 * Upload with real progress. fetch() cannot report request-body progress
 * (streaming request bodies need HTTP/2+ and still report nothing sent on the
 * wire), so the sealed photo goes through XMLHttpRequest, whose
 * `upload.onprogress` reports bytes sent (XHR Living Standard §4.6.3).
 * Answers are read like the typed client's: JSON, or an RFC 9457 problem
 * turned into ApiError.
 */
import { isAccountDeleted, noteAccountDeleted } from "../features/auth/account-deleted";
import { ApiError } from "./api/problem";
import { API_BASE } from "./config";

export const UPLOAD_TIMEOUT_MS = 5 * 60_000;

export interface UploadProgress {
  /** Bytes of the request body sent so far. */
  loaded: number;
  total: number;
}

export interface XhrUploadOptions {
  /** Path under the API, e.g. `/v1/photos`. */
  path: string;
  body: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  /** The session token (web/src/lib/api/signed-in-token.ts); every upload is a signed-in call. */
  token: string;
  onProgress?: (p: UploadProgress) => void;
  /** Called on a 401, like the typed client's middleware (the session is gone). */
  onUnauthorized?: () => void;
  signal?: AbortSignal;
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * POSTs `body` and resolves with the parsed JSON of a 2xx answer. Rejects with
 * ApiError for an HTTP error, TypeError when the network failed (what fetch
 * does, so describeError() words both alike), or an AbortError DOMException.
 */
export function xhrUpload(opts: XhrUploadOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new DOMException("The upload was canceled.", "AbortError"));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API_BASE}${opts.path}`);
    // Bearer tokens only, never cookies (as in lib/api/client.ts).
    xhr.withCredentials = false;
    xhr.responseType = "text";
    // Never hang silently: a stalled upload of a prepared photo (about 1 MB) ends with an error after five minutes.
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    for (const [name, value] of Object.entries(opts.headers)) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Authorization", `Bearer ${opts.token}`);

    const total = opts.body.byteLength;
    xhr.upload.onprogress = (e) => opts.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : total });
    xhr.upload.onload = () => opts.onProgress?.({ loaded: total, total });
    xhr.onload = () => {
      const body = parseBody(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      if (xhr.status === 401) {
        if (isAccountDeleted(body)) noteAccountDeleted();
        opts.onUnauthorized?.();
      }
      reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new TypeError("The upload could not reach BabyPic."));
    xhr.ontimeout = () => reject(new TypeError("The upload timed out."));
    xhr.onabort = () => reject(new DOMException("The upload was canceled.", "AbortError"));
    opts.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    opts.onProgress?.({ loaded: 0, total });
    xhr.send(opts.body);
  });
}
