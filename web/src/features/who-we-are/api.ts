import { useQuery } from "@tanstack/react-query";
import { publicApi } from "../../lib/api/client";
import { unwrap } from "../../lib/api/problem";

/**
 * The published privacy facts, including who we are (controller, DPO,
 * contacts), which are deployment configuration and so are read from
 * GET /v1/privacy at run time rather than built into the bundle
 * (docs/decisions/0015-privacy-team.md).
 */
export function usePrivacyFacts() {
  return useQuery({
    queryKey: ["privacy-facts"],
    queryFn: async () => unwrap(await publicApi.GET("/v1/privacy")),
    staleTime: 5 * 60_000,
  });
}

export type PrivacyFacts = NonNullable<ReturnType<typeof usePrivacyFacts>["data"]>;
