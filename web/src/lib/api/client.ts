/**
 * The typed API client: openapi-fetch over types generated from the Worker's
 * own /v1/openapi.json (`npm run api:types`); see docs/decisions/0001.
 */
import createClient, { type Client } from "openapi-fetch";
import { isAccountDeleted, noteAccountDeleted } from "../../features/auth/account-deleted";
import { API_BASE } from "../config";
import type { paths } from "./schema";

export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /** Bearer token for the request, or null when signed out. */
  getToken?: () => Promise<string | null>;
  /** Called when the API rejects the token (401), e.g. after local keys were regenerated. */
  onUnauthorized?: () => void;
}

export function createApiClient(opts: ApiClientOptions = {}): ApiClient {
  // Bearer tokens only: never send cookies, so there is nothing to forge cross-site.
  const client = createClient<paths>({ baseUrl: API_BASE, credentials: "omit" });
  const { getToken, onUnauthorized } = opts;
  if (getToken) {
    client.use({
      async onRequest({ request }) {
        const token = await getToken();
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
      async onResponse({ response }) {
        if (response.status === 401) {
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
  return client;
}

/** For unauthenticated calls (health, local sign-in). */
export const publicApi = createApiClient();
