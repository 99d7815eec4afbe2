/**
 * The SPA build. In development Vite serves on 127.0.0.1:5173 and proxies
 * /v1 to the Worker (127.0.0.1:8787 unless BABYPIC_API_ORIGIN says
 * otherwise), so the browser sees one origin and needs no CORS. The build
 * writes dist/_headers for its own configuration, and `vite preview` serves
 * with those headers, so the browser tests run under the production CSP.
 */
import react from "@vitejs/plugin-react";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, loadEnv, type Plugin } from "vite";
import { clerkFrontendApiFromKey, originOf, parseHeadersFile, renderHeadersFile, renderRedirectsFile, type HeaderRule } from "./headers.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
// The browser tests build into their own folder so they never clobber web/dist.
const outDir = process.env["BABYPIC_WEB_OUTDIR"] ?? fileURLToPath(new URL("./dist", import.meta.url));

function pagesHeaders(env: Record<string, string>): Plugin {
  let rules: HeaderRule[] | undefined;
  return {
    name: "babypic-pages-headers",
    apply: (_config, { command, isPreview }) => command === "build" || Boolean(isPreview),
    writeBundle() {
      const file = renderHeadersFile({
        apiOrigin: originOf(env["VITE_API_URL"]),
        clerkFrontendApi: clerkFrontendApiFromKey(env["VITE_CLERK_PUBLISHABLE_KEY"]),
      });
      writeFileSync(`${outDir}/_headers`, file);
      const redirects = renderRedirectsFile(originOf(env["VITE_API_URL"]));
      if (redirects) writeFileSync(`${outDir}/_redirects`, redirects);
    },
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        rules ??= parseHeadersFile(readFileSync(`${outDir}/_headers`, "utf8"));
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        for (const rule of rules) {
          if (rule.pattern.test(path)) for (const [k, v] of rule.headers) res.setHeader(k, v);
        }
        next();
      });
    },
  };
}

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, root, "VITE_");
  const api = process.env["BABYPIC_API_ORIGIN"] ?? "http://127.0.0.1:8787";
  // security.txt is the Worker's (computed Expires); in production _redirects points there.
  const proxy = { "/v1": { target: api }, "/.well-known/security.txt": { target: api } };
  return {
    root,
    envDir: root,
    clearScreen: false,
    plugins: [react(), pagesHeaders(env)],
    server: { host: "127.0.0.1", port: 5173, strictPort: true, proxy },
    preview: { host: "127.0.0.1", port: 4173, strictPort: true, proxy },
    build: { outDir, emptyOutDir: true, sourcemap: false, target: "es2022" },
  };
});
