/**
 * The dependency rules of the code base (docs/architecture.md, "Layers";
 * docs/decisions/0020-layers-and-one-logger.md). `npm run deps` checks them;
 * `npm run check` and the node test test/node/architecture.test.ts run it.
 *
 * Worker layers, each importing only itself and the layers below it:
 *   entry       worker/index.ts, app.ts, scheduled.ts, queue/consumer.ts
 *   http        routes/, middleware/, schemas/, app-env.ts, lib/{router,openapi,owned}.ts
 *   services    services/ (crypto, storage, audit, deletion, ...), auth/ (identity)
 *   adapters    providers/ (Fal), db/ (the Drizzle schema and client)
 *   foundation  env.ts, errors.ts, lib/ (the rest), auth/types.ts, queue/messages.ts
 * Type-only imports count: a circle of types is still a circle to a reader.
 */
const ENTRY = "^worker/(index|app|scheduled)\\.ts$|^worker/queue/consumer\\.ts$";
const HTTP = "^worker/(routes|middleware|schemas)/|^worker/app-env\\.ts$|^worker/lib/(router|openapi|owned)\\.ts$";
const SERVICES = "^worker/services/|^worker/auth/(?!types\\.ts$)";
const ADAPTERS = "^worker/(providers|db)/";
const FOUNDATION =
  "^worker/(env|errors)\\.ts$|^worker/lib/(?!(router|openapi|owned)\\.ts$)|^worker/auth/types\\.ts$|^worker/queue/messages\\.ts$";
/** What the SPA and the client library may use of the Worker: package.json "imports" `#shared/*`, nothing else. */
const SHARED =
  "^worker/lib/(privacy-facts|who-we-are|audit-verify|upload-envelope|hpke-open|bytes|result)\\.ts$|^worker/auth/types\\.ts$|^worker/services/webhooks/event-types\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import circle: two modules that can only be understood together. Move the shared part down a layer.",
      from: {},
      to: { circular: true },
    },
    {
      name: "entry-points-are-top",
      severity: "error",
      comment: "Only the entry points (and tests) import the entry points: fetch, queue and scheduled are wiring.",
      from: { path: "^worker/", pathNot: ENTRY },
      to: { path: ENTRY },
    },
    {
      name: "http-above-services",
      severity: "error",
      comment: "Services, adapters and the foundation do not know about HTTP (routes, middleware, request context).",
      from: { path: [SERVICES, ADAPTERS, FOUNDATION] },
      to: { path: HTTP },
    },
    {
      name: "services-throw-domain-errors",
      severity: "error",
      comment:
        "Services (and the foundation they use) throw DomainError (worker/lib/domain-error.ts), never the HTTP AppError: only the HTTP layer maps errors to problem+json (worker/errors.ts fromDomainError; docs/decisions/0023-composition-root-and-domain-errors.md).",
      from: { path: [SERVICES, ADAPTERS, "^worker/lib/cursor\\.ts$"] },
      to: { path: "^worker/errors\\.ts$" },
    },
    {
      name: "services-above-adapters",
      severity: "error",
      comment: "Adapters (providers, db) and the foundation do not call services.",
      from: { path: [ADAPTERS, FOUNDATION] },
      to: { path: SERVICES },
    },
    {
      name: "adapters-above-foundation",
      severity: "error",
      comment: "The foundation (env, errors, lib) does not reach the database or a provider.",
      from: { path: FOUNDATION },
      to: { path: ADAPTERS },
    },
    {
      name: "worker-stands-alone",
      severity: "error",
      comment: "The Worker imports nothing from the SPA, the scripts, the benches or the tests.",
      from: { path: "^worker/" },
      to: { path: "^(web|client|scripts|bench|test|examples)/" },
    },
    {
      name: "spa-imports-shared-by-name",
      severity: "error",
      comment:
        "The SPA and the client library reach Worker code only by a package.json import (#shared/...), never by a relative path out of their folder.",
      from: { path: "^(web|client)/" },
      to: { path: "^(worker|scripts|test|bench)/", dependencyTypesNot: ["aliased-subpath-import"] },
    },
    {
      name: "shared-is-small",
      severity: "error",
      comment: "Of the Worker, the SPA and the client library use only the shared modules (SHARED above).",
      from: { path: "^(web|client)/" },
      to: { path: "^worker/", pathNot: SHARED },
    },
    {
      name: "shared-stays-foundation",
      severity: "error",
      comment: "A shared module is bundled into the SPA: it imports nothing of the Worker but other shared modules.",
      from: { path: SHARED },
      to: { path: "^worker/", pathNot: SHARED },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|\\.d\\.ts$|^web/dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".d.ts"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
