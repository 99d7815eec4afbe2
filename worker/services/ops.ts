/**
 * What the local operator commands run (`npm run ops:backup`,
 * `npm run ops:restore-drill`, scripts/ops-*.mjs): the very service code the
 * Worker's cron uses, bundled for Node by scripts/lib/worker-module.mjs and
 * given bindings over the local state by wrangler's getPlatformProxy.
 */
export { createServices } from "./index";
export { backupNow, restoreBackup, restoreDrill, runBackup } from "./backup";
export { ACCOUNT_DELETE_BATCH, deleteAccount, resumeAccountDeletion } from "./deletion";
export { putObject } from "./storage";
