/**
 * createApp(): middleware, routes, error formatting. Each resource is a
 * sub-router mounted under /v1; the OpenAPI document is generated from the
 * routes' zod schemas and served at /v1/openapi.json.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { loadConfig, ConfigError, type Config } from "./env";
import type { AppEnv } from "./app-env";
import { AppError, problemResponse, toAppError } from "./errors";
import { logger } from "./lib/log";
import { buildDocument, PUBLIC_PATHS } from "./lib/openapi";
import { requestId } from "./middleware/request-id";
import { bodyLimit } from "./middleware/body-limit";
import { SECURITY_SCHEMES } from "./middleware/auth";
import { methodGuard } from "./middleware/method-guard";
import { rateLimit } from "./middleware/rate-limit";
import { services } from "./middleware/services";
import { apiKeyRoutes } from "./routes/api-keys";
import { billingRoutes } from "./routes/billing";
import { docsRoutes } from "./routes/docs";
import { creemWebhookRoutes } from "./routes/webhooks-creem";
import { devRoutes } from "./routes/dev";
import { healthRoutes } from "./routes/health";
import { keyRoutes } from "./routes/keys";
import { meRoutes } from "./routes/me";
import { photoRoutes } from "./routes/photos";
import { accountRoutes } from "./routes/account";
import { auditRoutes } from "./routes/audit";
import { privacyRoutes } from "./routes/privacy";
import { clerkWebhookRoutes } from "./routes/webhooks-clerk";
import { supportRoutes } from "./routes/support";
import { filesRoutes } from "./routes/files";
import { generationRoutes } from "./routes/generations";
import { generationInputRoutes } from "./routes/generation-inputs";
import { falWebhookRoutes } from "./routes/webhooks-fal";
import { wellKnownRoutes } from "./routes/well-known";
import { adminPrivacyRequestRoutes } from "./routes/admin-privacy-requests";
import { adminOperatorLogRoutes } from "./routes/admin-operator-log";
import { adminIncidentRoutes } from "./routes/admin-incidents";
import { adminLegalDemandRoutes } from "./routes/admin-legal-demands";
import { adminSupportSessionRoutes } from "./routes/admin-support-sessions";
import { adminSupportImageRequestRoutes } from "./routes/admin-support-image-requests";
import { incidentRoutes } from "./routes/incidents";
import { transparencyRoutes } from "./routes/transparency";
import { privacyRequestRoutes } from "./routes/privacy-requests";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints";

export const API_INFO = {
  title: "BabyPic API",
  version: "1.0.0",
  description:
    "Privacy-first AI baby generator. Authenticate with a Clerk session token or an API key (`Authorization: Bearer bp_...`). " +
    "Errors are RFC 9457 problem details with a stable `code`. Integrator guide: docs/api.md; browsable reference: /v1/docs.",
  license: { name: "Proprietary", identifier: "LicenseRef-BabyPic-Proprietary" },
};

/** The OpenAPI document's top level; the paths come from the mounted routes. */
export function documentConfig(serverUrl: string) {
  return { openapi: "3.1.0", info: API_INFO, servers: [{ url: serverUrl, description: "This deployment" }] };
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.use("*", requestId);
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        formAction: ["'none'"],
      },
      strictTransportSecurity: "max-age=63072000; includeSubDomains; preload",
      referrerPolicy: "no-referrer",
      crossOriginOpenerPolicy: "same-origin",
      // The SPA (same site, possibly another origin) loads images from /v1/files.
      crossOriginResourcePolicy: "same-site",
      xFrameOptions: "DENY",
      permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
      // A route that sets its own, stricter or page-specific header (the
      // docs page's nonce CSP, files' `sandbox`) keeps it.
      overwrite: false,
    }),
  );
  app.use("/v1/*", async (c, next) => {
    // CORS only for the configured SPA origin; misconfiguration surfaces in onError.
    let origin: string | null = null;
    try {
      origin = loadConfig(c.env).APP_ORIGIN;
    } catch {
      origin = null;
    }
    return cors({
      origin: (o) => (origin && o === origin ? o : null),
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Upload-Id", "X-Upload-Key-Id", "X-Upload-Content-Type", "X-Support-Reason"],
      allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
      exposeHeaders: ["Location", "Retry-After", "X-Request-Id", "Content-Disposition"],
      maxAge: 600,
    })(c, next);
  });
  app.use("*", services);
  for (const path of PUBLIC_PATHS) app.use(path, rateLimit("ip"));
  app.use("/v1/*", bodyLimit);

  app.route("/v1", healthRoutes);
  app.route("/v1", meRoutes);
  app.route("/v1", keyRoutes);
  app.route("/v1", photoRoutes);
  app.route("/v1", accountRoutes);
  app.route("/v1", auditRoutes);
  app.route("/v1", privacyRoutes);
  app.route("/v1", clerkWebhookRoutes);
  app.route("/v1", supportRoutes);
  app.route("/v1", filesRoutes);
  app.use("/v1/dev/*", async (c, next) => {
    if (c.get("services").config.ENVIRONMENT !== "development") throw new AppError("not_found");
    await next();
  });
  app.route("/v1", devRoutes);
  app.route("/v1", billingRoutes);
  app.route("/v1", creemWebhookRoutes);
  app.route("/v1", generationRoutes);
  app.route("/v1", generationInputRoutes);
  app.route("/v1", falWebhookRoutes);
  app.route("/v1", apiKeyRoutes);
  app.route("/v1", privacyRequestRoutes);
  app.route("/v1", adminSupportSessionRoutes);
  app.route("/v1", adminSupportImageRequestRoutes);
  app.route("/v1", adminPrivacyRequestRoutes);
  app.route("/v1", adminOperatorLogRoutes);
  app.route("/v1", adminIncidentRoutes);
  app.route("/v1", adminLegalDemandRoutes);
  app.route("/v1", incidentRoutes);
  app.route("/v1", transparencyRoutes);
  app.route("/", wellKnownRoutes);
  app.route("/v1", webhookEndpointRoutes);
  const document = (config: Config) =>
    buildDocument(app, documentConfig(config.PUBLIC_API_URL), { developmentRoutes: config.ENVIRONMENT === "development" });
  app.route("/v1", docsRoutes((c) => document(c.get("services").config)));

  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  app.get("/v1/openapi.json", (c) => c.json(document(c.get("services").config)));

  const wrongMethod = methodGuard(() => app.routes);
  app.notFound((c) => wrongMethod(c) ?? problemResponse(new AppError("not_found", "No such route."), c.get("requestId"), c.req.path));

  app.onError((err, c) => {
    const rid = c.get("requestId") ?? "req_unknown";
    const known = toAppError(err);
    if (known) return problemResponse(known, rid, c.req.path);
    if (err instanceof ConfigError) {
      logger.error("misconfigured", { problems: err.problems, requestId: rid });
      return problemResponse(new AppError("misconfigured"), rid, c.req.path);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = err.status === 413 ? "payload_too_large" : err.status === 401 ? "unauthorized" : "bad_request";
      return problemResponse(new AppError(code, err.message || undefined), rid, c.req.path);
    }
    logger.error("unhandled", { requestId: rid, name: err.name, message: err.message });
    return problemResponse(new AppError("internal", `Something went wrong. Quote request id ${rid} if you contact us.`), rid, c.req.path);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
