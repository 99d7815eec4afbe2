import { useMutation } from "@tanstack/react-query";
import { publicApi } from "../../lib/api/client";
import { unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";

export type PrivacyRequestInput = components["schemas"]["PrivacyRequestInput"];

/** POST /v1/privacy-requests: no account, no cookie (the client never sends credentials). */
export function useSendPrivacyRequest() {
  return useMutation({
    mutationFn: async (body: PrivacyRequestInput) => unwrap(await publicApi.POST("/v1/privacy-requests", { body })),
  });
}
