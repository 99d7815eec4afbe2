import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { publicApi } from "../../lib/api/client";
import { unwrap } from "../../lib/api/problem";
import type { components } from "../../lib/api/schema";
import { useApi } from "../auth/useApi";
import { safeCheckoutUrl } from "./checkout-url";

export type LedgerEntry = components["schemas"]["LedgerEntry"];
export type CreditPack = components["schemas"]["CreditPack"];

export const billingKeys = {
  balance: ["billing", "balance"] as const,
  ledger: ["billing", "ledger"] as const,
  packs: ["billing", "packs"] as const,
};

/** Polls while `watching` (a checkout just returned and its webhook may still be on the way). */
export function useBalance(watching = false) {
  const api = useApi();
  return useQuery({
    queryKey: billingKeys.balance,
    queryFn: async () => unwrap(await api.GET("/v1/billing/balance")),
    refetchInterval: watching ? 2_000 : false,
  });
}

export function usePacks() {
  return useQuery({
    queryKey: billingKeys.packs,
    queryFn: async () => unwrap(await publicApi.GET("/v1/billing/packs")).packs,
    staleTime: 10 * 60_000,
  });
}

export function useLedger(watching = false) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: billingKeys.ledger,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => unwrap(await api.GET("/v1/billing/ledger", { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: watching ? 2_000 : false,
  });
}

/** POST /v1/billing/checkout, then send the browser to the hosted payment page. */
export function useCheckout() {
  const api = useApi();
  return useMutation({
    mutationFn: async (productId: string) => unwrap(await api.POST("/v1/billing/checkout", { body: { productId } })),
    onSuccess: (checkout) => {
      window.location.assign(safeCheckoutUrl(checkout.checkoutUrl));
    },
  });
}

export const REASON_LABELS: Record<LedgerEntry["reason"], string> = {
  free_grant: "Welcome credits",
  reserve: "Picture made",
  refund: "Refund (picture failed or canceled)",
  purchase: "Purchase",
  purchase_reversal: "Payment refunded",
  adjustment: "Adjustment",
};
