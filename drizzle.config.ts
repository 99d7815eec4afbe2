import { defineConfig } from "drizzle-kit";

// The Drizzle schema is the single source of truth; `npm run db:generate`
// writes SQL migrations into migrations/, which wrangler applies to D1.
export default defineConfig({
  dialect: "sqlite",
  schema: "./worker/db/schema.ts",
  out: "./migrations",
});
