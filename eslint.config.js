import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".wrangler/", "dist/", "web/dist/", "migrations/", "coverage/", "**/*.d.ts", ".cache/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["**/*.ts", "**/*.tsx"],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // The SPA and the client library reach Worker code only by name (package.json "imports" #shared/*),
    // never by climbing out of their folder (docs/architecture.md, "Layers"; .dependency-cruiser.cjs checks the rest).
    files: ["web/**/*.ts", "web/**/*.tsx", "client/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/worker/**", "**/worker"], message: "Import shared Worker code by name: #shared/<module> (package.json \"imports\")." }] },
      ],
    },
  },
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } } },
  {
    files: ["scripts/**/*.mjs", "test/e2e/**/*.mjs", "bench/**/*.mjs", ".ci/**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", fetch: "readonly", setTimeout: "readonly", clearTimeout: "readonly", Buffer: "readonly", crypto: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", Response: "readonly", Request: "readonly", Headers: "readonly", AbortController: "readonly", setInterval: "readonly", clearInterval: "readonly", structuredClone: "readonly", performance: "readonly", atob: "readonly", btoa: "readonly", Blob: "readonly", FormData: "readonly" } },
  },
);
