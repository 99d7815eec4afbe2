import { it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ComponentType } from "react";
import { pageUnits, parseClaims, renderPage } from "./claims-lib";
const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
it("dump", async () => {
  const claims = parseClaims(readFileSync(join(ROOT, "docs/claims.md"), "utf8"));
  const out: string[] = [];
  for (const n of ["Security", "Privacy"]) {
    const P = ((await import(/* @vite-ignore */ join(ROOT, `web/src/routes/${n}.tsx`))) as { default: ComponentType }).default;
    const units = pageUnits(renderPage(P));
    const listed = new Set(claims.filter((c) => c.page === n).map((c) => c.text));
    out.push(`## ${n}`);
    for (const u of units) out.push(`${listed.has(u) ? "  " : "+ "}${u}`);
    for (const c of claims.filter((c) => c.page === n && !units.includes(c.text))) out.push(`- ${c.text}`);
  }
  writeFileSync("/tmp/units-diff.txt", out.join("\n"));
});
