// `npm run setup`: makes the ignored `.dev.vars` with fresh local secrets
// (key rings, HPKE key, the local identity provider's key pair, webhook
// secrets). Idempotent; prints names, never values. `npm start` runs it too.
import { ensureDevVars } from "./lib/dev-vars.mjs";

export function setup({ log = (m) => console.log(`[setup] ${m}`) } = {}) {
  const result = ensureDevVars();
  if (result.created) log(`created .dev.vars with ${result.added.length} fresh local secrets (values not shown)`);
  else if (result.added.length) log(`added to .dev.vars: ${result.added.join(", ")}`);
  for (const p of result.problems) console.error(`[setup] ${p}`);
  return result;
}

if (import.meta.main) {
  const { problems } = setup();
  if (problems.length) process.exit(1);
  console.log("[setup] .dev.vars is ready (values are never printed)");
}
