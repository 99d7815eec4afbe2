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
import { defineConfig, loadEnv, type Connect, type Plugin } from "vite";
import { clerkFrontendApiFromKey, originOf, parseHeadersFile, renderHeadersFile, renderRedirectsFile, type HeaderRule } from "./headers.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
// The browser tests build into their own folder so they never clobber web/dist.
const outDir = process.env["BABYPIC_WEB_OUTDIR"] ?? fileURLToPath(new URL("./dist", import.meta.url));

/**
 * Two pages (decision 0021): "/" is the static landing page (index.html) and
 * every other page path is the app (app.html). Requests for a page (not a
 * file: no dot in the last segment, not /v1, not Vite's own /@ and /src
 * paths) other than "/" get app.html, in the dev server and in `vite preview`
 * alike; production does the same with _redirects and 404.html (headers.ts).
 */
export function isAppPath(path: string): boolean {
  if (path === "/" || path === "/index.html") return false;
  if (/^\/(v1|@|src\/|node_modules\/|assets\/|\.well-known\/)/.test(path)) return false;
  const last = path.split("/").pop() ?? "";
  return !last.includes(".");
}

function appShell(): Plugin {
  const rewrite = (req: { url?: string; headers: Record<string, string | string[] | undefined> }) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const accept = String(req.headers["accept"] ?? "");
    if (isAppPath(path) && (accept.includes("text/html") || accept === "" || accept.includes("*/*"))) req.url = "/app.html";
  };
  // The same rewrite in the dev server and in `vite preview`.
  const install = (server: { middlewares: Connect.Server }) => {
    server.middlewares.use((req, _res, next) => {
      rewrite(req);
      next();
    });
  };
  return {
    name: "babypic-app-shell",
    configureServer: install,
    configurePreviewServer: install,
    writeBundle() {
      // Cloudflare Pages answers an unknown path with 404.html: the app, which shows its "Page not found".
      writeFileSync(`${outDir}/404.html`, readFileSync(`${outDir}/app.html`));
    },
  };
}

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
      writeFileSync(`${outDir}/_redirects`, renderRedirectsFile(originOf(env["VITE_API_URL"])));
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
    appType: "mpa",
    plugins: [appShell(), react(), pagesHeaders(env)],
    server: { host: "127.0.0.1", port: 5173, strictPort: true, proxy },
    preview: { host: "127.0.0.1", port: 4173, strictPort: true, proxy },
    build: {
      outDir,
      emptyOutDir: true,
      sourcemap: false,
      target: "es2022",
      rolldownOptions: { input: { index: `${root}index.html`, app: `${root}app.html` } },
    },
  };
});
