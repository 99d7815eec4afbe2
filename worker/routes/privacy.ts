/**
 * `GET /v1/privacy`: the machine-readable privacy facts (GDPR Art. 13/14
 * information, Art. 28 sub-processors), built from the same constants the
 * retention sweeps enforce (lib/privacy-facts.ts), so the published rules
 * cannot drift from the code. Public: no authentication.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { anonymous } from "../middleware/auth";
import { privacyFacts } from "../lib/privacy-facts";
import { whoWeAre } from "../lib/who-we-are";
import { jsonResponse } from "../schemas/common";

export const PrivacySchema = z
  .object({
    controller: z.object({ name: z.string(), address: z.string() }).openapi({ description: "The data controller (GDPR Art. 13(1)(a))." }),
    dpo: z.object({ name: z.string(), email: z.string() }).openapi({ description: "The Data Protection Officer (GDPR Art. 13(1)(b), Art. 37)." }),
    privacyContact: z.object({ email: z.string() }).openapi({ description: "For privacy questions and requests; the contact form at /contact needs no account." }),
    securityContact: z.object({ email: z.string() }).openapi({ description: "For vulnerability reports; see /.well-known/security.txt." }),
    termsVersion: z.string(),
    purposes: z.array(z.object({ purpose: z.string(), legalBasis: z.string() })),
    subProcessors: z.array(
      z.object({ name: z.string(), purpose: z.string(), dataCategories: z.array(z.string()), when: z.string(), url: z.string() }),
    ),
    retention: z.array(
      z.object({
        id: z.string(),
        data: z.string(),
        rule: z.string(),
        seconds: z.number().int().nullable().openapi({ description: "null: kept until the user deletes it." }),
      }),
    ),
    dataCategories: z.array(z.object({ category: z.string(), items: z.array(z.string()), retention: z.string() })),
    rights: z.array(z.object({ right: z.string(), article: z.string(), how: z.string() })),
    onDeviceChecks: z
      .array(z.string())
      .openapi({ description: "What BabyPic's web app checks on the person's device before a photo leaves it (the face check); the API itself accepts whole photos." }),
    limits: z.array(z.string()),
  })
  .openapi("Privacy");

export const privacyRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/privacy",
    operationId: "getPrivacy",
    ...anonymous(),
    tags: ["privacy"],
    summary: "Sub-processors, retention rules, data categories and rights (public)",
    responses: { 200: jsonResponse("The privacy facts", PrivacySchema) },
  }),
  (c) => {
    c.header("cache-control", "public, max-age=300");
    const { config } = c.get("services");
    return c.json(privacyFacts(config.SIGNED_URL_TTL_SECONDS, whoWeAre(config)), 200);
  },
);
