/**
 * Credits and purchases: balance, ledger history, packs and Creem checkout.
 * Balance is the sum of the append-only ledger (docs/architecture.md).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { decodeKeysetCursor, keysetPage } from "../lib/cursor";
import { ownerContext } from "../lib/owned";
import { createRouter } from "../lib/router";
import { requestMeta } from "../lib/request-meta";
import { anonymous, authenticated } from "../middleware/auth";
import { authErrors, inputErrors, jsonBody, jsonResponse, PageQuery, problem } from "../schemas/common";
import { creditPacks, startCheckout } from "../services/billing";
import { ledgerPage } from "../services/credits";
import { balanceOf } from "../services/users";

const Balance = z
  .object({ credits: z.number().int().openapi({ description: "Sum of the ledger; can be negative after a refund of spent credits." }) })
  .openapi("Balance", { example: { credits: 15 } });

const LedgerEntry = z
  .object({
    id: z.string(),
    delta: z.number().int().openapi({ description: "Credits added (positive) or taken (negative)." }),
    reason: z.enum(["free_grant", "reserve", "refund", "purchase", "purchase_reversal", "adjustment"]).openapi({
      description:
        "`free_grant` on sign-up, `reserve` when a generation starts, `refund` when it fails or is canceled, `purchase` from a Creem checkout, `purchase_reversal` from a Creem refund; `adjustment` is reserved for manual corrections.",
    }),
    reference: z.string().openapi({ description: "What caused it: a generation id, a Creem checkout id, or the user id for the free grant." }),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("LedgerEntry");

const LedgerPage = z
  .object({ entries: z.array(LedgerEntry), nextCursor: z.string().nullable() })
  .openapi("LedgerPage", {
    example: {
      entries: [
        { id: "led_0f9e8d7c6b5a49382716f5e4d3c2b1a0", delta: 10, reason: "purchase", reference: "ch_4l0N34kxo16AhRKUHFUuXr", createdAt: "2026-11-27T06:00:00.000Z" },
        { id: "led_1a2b3c4d5e6f47089a1b2c3d4e5f6071", delta: -1, reason: "reserve", reference: "gen_7c1e0d2b9a8f4e3d2c1b0a9f8e7d6c5b", createdAt: "2026-11-26T18:30:00.000Z" },
      ],
      nextCursor: null,
    },
  });

const Pack = z
  .object({
    productId: z.string().openapi({ description: "Creem product id; pass it to `POST /v1/billing/checkout`." }),
    name: z.string(),
    credits: z.number().int().positive(),
    price: z.string().openapi({ description: "Display price, tax rules applied by Creem at checkout." }),
  })
  .openapi("CreditPack");

const Packs = z
  .object({ packs: z.array(Pack) })
  .openapi("CreditPacks", { example: { packs: [{ productId: "prod_d1AY2Sadk9YAvLI0pj97f", name: "10 credits", credits: 10, price: "€4.99" }] } });

const CheckoutRequest = z
  .object({ productId: z.string().min(1).max(200).openapi({ description: "A `productId` from `GET /v1/billing/packs`." }) })
  .strict()
  .openapi("CheckoutRequest", { example: { productId: "prod_d1AY2Sadk9YAvLI0pj97f" } });

const Checkout = z
  .object({
    checkoutId: z.string(),
    checkoutUrl: z.url().openapi({ description: "Creem's hosted checkout page: send the user's browser there." }),
    credits: z.number().int().positive(),
  })
  .openapi("Checkout", {
    example: { checkoutId: "ch_4l0N34kxo16AhRKUHFUuXr", checkoutUrl: "https://checkout.creem.io/ch_4l0N34kxo16AhRKUHFUuXr", credits: 10 },
  });

export const billingRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/billing/balance",
      tags: ["billing"],
      operationId: "getBalance",
      summary: "Credit balance",
      description: "The sum of the caller's ledger. Needs scope `account:read` with an API key.",
      ...authenticated({ scope: "account:read", limit: "read" }),
      responses: { 200: jsonResponse("The balance", Balance), ...authErrors },
    }),
    async (c) => {
      const s = c.get("services");
      return c.json({ credits: await balanceOf(s.db, c.get("auth").userId) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/billing/ledger",
      tags: ["billing"],
      operationId: "listLedger",
      summary: "Credit history",
      description: "Every credit movement, newest first, with cursor pagination. Needs scope `account:read` with an API key.",
      ...authenticated({ scope: "account:read", limit: "read" }),
      request: { query: PageQuery },
      responses: { 200: jsonResponse("One page of the ledger", LedgerPage), ...inputErrors },
    }),
    async (c) => {
      const s = c.get("services");
      const { limit, cursor } = c.req.valid("query");
      const rows = await ledgerPage(s.db, c.get("auth").userId, limit + 1, cursor ? decodeKeysetCursor(cursor, "led") : undefined);
      const { page, nextCursor } = keysetPage(rows, limit);
      return c.json(
        {
          entries: page.map((r) => ({ id: r.id, delta: r.delta, reason: r.reason, reference: r.reference, createdAt: new Date(r.createdAt).toISOString() })),
          nextCursor,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/billing/packs",
      ...anonymous(),
      tags: ["billing"],
      operationId: "listPacks",
      summary: "Credit packs for sale",
      description: "Public: the packs configured for this deployment.",
      responses: { 200: jsonResponse("The packs", Packs), 429: problem("Rate limited (`rate_limited`); see `Retry-After`.") },
    }),
    (c) => c.json({ packs: creditPacks(c.get("services").config) }, 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/billing/checkout",
      tags: ["billing"],
      operationId: "createCheckout",
      summary: "Start buying a credit pack",
      description:
        "Creates a Creem hosted checkout and returns its URL. Credits arrive when Creem confirms the payment by webhook; " +
        "watch `GET /v1/billing/balance` or the ledger. Needs scope `billing:write` with an API key.",
      ...authenticated({ scope: "billing:write", limit: "write" }),
      request: { body: jsonBody(CheckoutRequest) },
      responses: {
        201: jsonResponse("Checkout created", Checkout),
        ...inputErrors,
        503: problem("The payment provider is unavailable (`upstream_unavailable`); retry later."),
      },
    }),
    async (c) => {
      const { s, auth } = ownerContext(c);
      const rid = c.get("requestId");
      const result = await startCheckout(s, {
        userId: auth.userId,
        actor: { type: auth.via === "api_key" ? "api_key" : "user", id: auth.actorId },
        productId: c.req.valid("json").productId,
        requestId: rid,
        meta: requestMeta(c.req.raw, rid),
      });
      return c.json({ checkoutId: result.checkoutId, checkoutUrl: result.checkoutUrl, credits: result.pack.credits }, 201);
    },
  );
