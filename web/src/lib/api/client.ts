/**
 * The typed API client of the SPA: the transport of the client library
 * integrators use (`#client/core`, client/core.ts: openapi-fetch over types
 * generated from the Worker's own /v1/openapi.json by `npm run api:types`,
 * the bearer token, retries of 429/503 after Retry-After); see docs/decisions/0001.
 */
import { createTransport, type paths } from "#client/core";
import type { Client } from "openapi-fetch";
import { isAccountDeleted, noteAccountDeleted } from "../../features/auth/account-deleted";
import { API_BASE } from "../config";
import { signedInToken, type TokenSource } from "./signed-in-token";

export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /**
   * The session's token, or null when signed out. With it every call is a
   * signed-in call: without a token it rejects with SignedOut and sends nothing.
   */
  getToken?: TokenSource;
  /** Called when the API rejects the token (401), e.g. after local keys were regenerated. */
  onUnauthorized?: () => void;
}

export function createApiClient(opts: ApiClientOptions = {}): ApiClient {
  const { getToken, onUnauthorized } = opts;
  // Bearer tokens only: never send cookies, so there is nothing to forge cross-site.
  const token = getToken ? () => signedInToken(getToken) : null;
  const { api } = createTransport({ baseUrl: API_BASE, token, credentials: "omit" });
  if (getToken) {
    // Several calls may be in flight when the session is refused; only the first one signs out and
    // leaves the note, so the sign-in page (which shows and clears it) is not given it again.
    let refused = false;
    api.use({
      async onResponse({ response }) {
        if (response.status === 401 && !refused) {
          refused = true;
          // account_deleted: this session predates the account's deletion; say so on the sign-in page.
          const body: unknown = await response
            .clone()
            .json()
            .catch(() => null);
          if (isAccountDeleted(body)) noteAccountDeleted();
          onUnauthorized?.();
        }
        return response;
      },
    });
  }
  return api;
}

/** For unauthenticated calls (health, local sign-in). */
export const publicApi = createApiClient();
