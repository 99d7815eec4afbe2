/**
 * The SPA build. In development Vite serves on 127.0.0.1:5173 and proxies
 * /v1 to the Worker (127.0.0.1:8787 unless BABYPIC_API_ORIGIN says
 * otherwise), so the browser sees one origin and needs no CORS. The build
 * writes dist/_headers for its own configuration, and `vite preview` serves
 * with those headers, so the browser tests run under the production CSP.
 */
import react from "@vitejs/plugin-react";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { HEAD_PLACEHOLDER, SHARED_HEAD } from "./head";
import { createServer, defineConfig, loadEnv, type Connect, type Plugin, type ViteDevServer } from "vite";
import {
  clerkFrontendApiFromKey,
  originOf,
  parseHeadersFile,
  PUBLIC_PAGES,
  PUBLIC_PATHS,
  renderHeadersFile,
  renderRedirectsFile,
  type HeaderRule,
  type PageAssets,
  type PublicPath,
} from "./headers.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
// The browser tests build into their own folder so they never clobber web/dist.
const outDir = process.env["BABYPIC_WEB_OUTDIR"] ?? fileURLToPath(new URL("./dist", import.meta.url));

const isPublicPath = (path: string): path is PublicPath => (PUBLIC_PATHS as string[]).includes(path);

/**
 * Two pages (decision 0021): "/" is the static landing page (index.html), the
 * public pages are prerendered files of their own (decision 0025, publicPages
 * below) and every other page path is the app (app.html). Requests for a page (not a
 * file: no dot in the last segment, not /v1, not Vite's own /@ and /src
 * paths) other than "/" get app.html, in the dev server and in `vite preview`
 * alike; production does the same with _redirects and 404.html (headers.ts).
 */
export function isAppPath(path: string): boolean {
  if (path === "/" || path === "/index.html" || isPublicPath(path)) return false;
  if (/^\/(v1|@|src\/|node_modules\/|assets\/|\.well-known\/)/.test(path)) return false;
  const last = path.split("/").pop() ?? "";
  return !last.includes(".");
}

function appShell(): Plugin {
  const rewrite = (req: { url?: string; headers: Record<string, string | string[] | undefined> }, preview: boolean) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const accept = String(req.headers["accept"] ?? "");
    if (!(accept.includes("text/html") || accept === "" || accept.includes("*/*"))) return;
    if (isAppPath(path)) req.url = "/app.html";
    // `vite preview`: the prerendered file, as Cloudflare Pages serves /security from security.html
    // (`vite dev` renders the page on each request, publicPages below).
    else if (preview && isPublicPath(path)) req.url = `/${PUBLIC_PAGES[path].file}`;
  };
  // The same rewrite in the dev server and in `vite preview`.
  const install = (server: { middlewares: Connect.Server }, preview: boolean) => {
    server.middlewares.use((req, _res, next) => {
      rewrite(req, preview);
      next();
    });
  };
  return {
    name: "babypic-app-shell",
    // The head every page shares (web/head.ts): index.html and app.html hold its placeholder.
    transformIndexHtml: (html) => html.replace(HEAD_PLACEHOLDER, SHARED_HEAD.trimStart()),
    configureServer: (server) => install(server, false),
    configurePreviewServer: (server) => install(server, true),
    writeBundle() {
      // Cloudflare Pages answers an unknown path with 404.html: the app, which shows its "Page not found".
      writeFileSync(`${outDir}/404.html`, readFileSync(`${outDir}/app.html`));
    },
  };
}

const RENDER_MODULE = "/src/public/render.tsx";

async function renderWith(server: ViteDevServer, path: PublicPath, assets: PageAssets): Promise<string> {
  // render.tsx is JSX, which this config's own type check (tsconfig.node.json) does not compile: its one export, typed here.
  const mod = (await server.ssrLoadModule(RENDER_MODULE)) as { renderPublicPage: (path: PublicPath, assets: PageAssets) => string };
  return mod.renderPublicPage(path, assets);
}

/**
 * The public pages (PUBLIC_PAGES), prerendered from the app's components by
 * web/src/public/render.tsx (decision 0025). They load the landing page's
 * script (web/src/public/public.ts) and stylesheet, the same hashed files:
 * once the bundle is written, the build renders each page through a Vite
 * server in middleware mode and writes its HTML file beside index.html. `vite dev` renders on each
 * request instead, from the sources.
 */
function publicPages(mode: string): Plugin {
  return {
    name: "babypic-public-pages",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        if (!isPublicPath(path)) return next();
        renderWith(server, path, { css: ["/src/public/public.css"], script: "/src/public/public.ts" })
          .then((html) => server.transformIndexHtml(path, html))
          .then((html) => {
            res.setHeader("Content-Type", "text/html; charset=utf-8");
            res.end(html);
          })
          .catch(next);
      });
    },
    async writeBundle(_options, bundle) {
      // The landing page's entry chunk is web/src/public/public.ts with its stylesheet: the public pages load the same files.
      const entry = Object.values(bundle).find((c) => c.type === "chunk" && c.isEntry && c.facadeModuleId === `${root}index.html`);
      if (!entry || entry.type !== "chunk") throw new Error("the build has no entry for web/index.html");
      const css = [...(entry.viteMetadata?.importedCss ?? [])].map((f) => `/${f}`);
      if (css.length === 0) throw new Error("web/index.html's script brought no stylesheet");
      const server = await createServer({
        configFile: false,
        root,
        envDir: root,
        mode,
        logLevel: "warn",
        appType: "custom",
        plugins: [react()],
        server: { middlewareMode: true, hmr: false, ws: false },
      });
      try {
        for (const path of PUBLIC_PATHS) {
          const file = `${outDir}/${PUBLIC_PAGES[path].file}`;
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, await renderWith(server, path, { css, script: `/${entry.fileName}`, preload: entry.imports.map((f) => `/${f}`) }));
        }
      } finally {
        await server.close();
      }
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
    plugins: [appShell(), publicPages(mode), react(), pagesHeaders(env)],
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
