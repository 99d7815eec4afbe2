import { useMemo } from "react";
import { createApiClient, type ApiClient } from "../../lib/api/client";
import { useAuth } from "./context";

/** The API client with the signed-in user's token on every request. */
export function useApi(): ApiClient {
  const { getToken, onUnauthorized } = useAuth();
  return useMemo(() => createApiClient({ getToken, onUnauthorized }), [getToken, onUnauthorized]);
}
