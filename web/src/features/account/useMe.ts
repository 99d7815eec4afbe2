import { useQuery } from "@tanstack/react-query";
import { unwrap } from "../../lib/api/problem";
import { useApi } from "../auth/useApi";

/** GET /v1/me: the signed-in user (the API creates the row on first use). */
export function useMe() {
  const api = useApi();
  return useQuery({ queryKey: ["me"], queryFn: async () => unwrap(await api.GET("/v1/me")) });
}
