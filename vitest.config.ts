import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vitest/config";
import { makeSecrets } from "./test/keys.ts";

const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));

const workerProject = defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // No test may reach the network: anything not faked in-process fails loudly.
        outboundService: (request: Request) =>
          new Response(`test network: unexpected outbound request to ${new URL(request.url).origin}`, { status: 599 }),
        // Every test file shares these counters and requests carry no client
        // IP, so the real limits would make unrelated suites flaky; the refusal
        // path is tested with fake limiters (test/billing/rate-limit.test.ts).
        ratelimits: {
          RL_WRITE: { namespace_id: "1001", simple: { limit: 1_000_000, period: 60 } },
          RL_READ: { namespace_id: "1002", simple: { limit: 1_000_000, period: 60 } },
          RL_IP: { namespace_id: "1003", simple: { limit: 1_000_000, period: 60 } },
        },
        bindings: {
          ...makeSecrets(),
          // Clerk's SDK captures fetch at import time unless NODE_ENV is test.
          NODE_ENV: "test",
          APP_ORIGIN: "http://app.test",
          PUBLIC_API_URL: "http://api.test",
          CLERK_AUTHORIZED_PARTIES: "http://app.test",
          FAL_QUEUE_URL: "https://queue.fal.run",
          FAL_JWKS_URL: "https://rest.alpha.fal.ai/.well-known/jwks.json",
          FAL_KEY: "test-fal-key-id:test-fal-key-secret",
          // Admin scope, used only for payload deletion (the fake refuses any other key there).
          FAL_ADMIN_KEY: "test-fal-admin-id:test-fal-admin-secret",
          CREEM_API_URL: "https://test-api.creem.io",
          CREEM_API_KEY: "creem_test_key",
          CREEM_PRODUCTS: JSON.stringify({ prod_small: { credits: 10, name: "10 credits", price: "€4.99" } }),
          // wrangler.toml makes local carol an engineer for trying the picture flow
          // in development; here she is an admin only, and engineers come from
          // the session claim (test/privacy-team/support-sessions.test.ts).
          ENGINEER_USER_IDS: "",
          TEST_MIGRATIONS: migrations,
        },
      },
    }),
  ],
  test: {
    name: "worker",
    include: ["worker/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/node/**", "node_modules/**"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

/**
 * Under Node, a Worker module's `import m from "x.wasm"` becomes the compiled
 * module wrangler and workerd would give it (Node, unlike Workers, may compile
 * at run time). Vite itself only knows `?init` imports.
 */
const wasmModules: Plugin = {
  name: "babypic:wasm-module",
  enforce: "pre",
  load(id) {
    if (!id.endsWith(".wasm")) return null;
    const base64 = readFileSync(id).toString("base64");
    return `export default new WebAssembly.Module(Uint8Array.from(atob(${JSON.stringify(base64)}), (c) => c.charCodeAt(0)));`;
  },
};

// Tests that need Node itself (OpenAPI lint, scripts, the local Fal server).
const nodeProject = defineConfig({
  plugins: [wasmModules],
  test: {
    name: "node",
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
  },
});

// Vitest's default leaves one core idle (availableParallelism - 1): one worker
// on CI's 2 cores. Two workers took test/access + test/billing from 70 s to
// 52 s on a quiet 2-core machine (docs/benchmarks.md, "CI wall time").
export default defineConfig({
  test: { maxWorkers: Math.max(2, availableParallelism() - 1), projects: [workerProject, nodeProject] },
});
