/**
 * docs/claims.md is the contract between the public pages and the tests:
 * every sentence (or table row) of the Security and Privacy pages is listed
 * there, either with the tests that prove it or as "not a promise" with a
 * reason. This fails when a page gains a promise with no entry, when an entry
 * names a test that is gone, or when an entry no longer matches the page.
 * /v1/privacy serves the same facts (worker/lib/privacy-facts.ts) that these
 * pages render, so its promises are covered through them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ComponentType } from "react";
import { declaresTest, pageUnits, parseClaims, renderPage, sentences } from "./claims-lib";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const claims = parseClaims(readFileSync(join(ROOT, "docs/claims.md"), "utf8"));
/** The pages are TSX, type-checked by web/tsconfig.json; loaded here by path so the Worker's tsconfig needs no JSX. */
async function page(name: string): Promise<ComponentType> {
  const path = join(ROOT, `web/src/routes/${name}.tsx`);
  return ((await import(/* @vite-ignore */ path)) as { default: ComponentType }).default;
}
const PAGES = { Security: await page("Security"), Privacy: await page("Privacy") } as const;

describe("docs/claims.md (security)", () => {
  for (const [name, page] of Object.entries(PAGES)) {
    it(`lists every sentence of the ${name} page`, () => {
      const listed = new Set(claims.filter((c) => c.page === name).map((c) => c.text));
      const missing = pageUnits(renderPage(page)).filter((u) => !listed.has(u));
      expect(missing, `add these ${name} page sentences to docs/claims.md`).toEqual([]);
    });

    it(`lists nothing the ${name} page no longer says`, () => {
      const units = new Set(pageUnits(renderPage(page)));
      const stale = claims.filter((c) => c.page === name && !units.has(c.text)).map((c) => `line ${c.line}: ${c.text}`);
      expect(stale).toEqual([]);
    });
  }

  it("gives every promise a proof, and every proof names a test that exists", () => {
    const problems: string[] = [];
    for (const c of claims) {
      if (c.why !== null && c.proofs.length > 0) problems.push(`line ${c.line}: both proofs and "not a promise"`);
      if (c.why === null && c.proofs.length === 0) problems.push(`line ${c.line}: a promise without a proof: ${c.text}`);
      for (const p of c.proofs) {
        const file = join(ROOT, p.file);
        if (!existsSync(file)) problems.push(`line ${c.line}: no file ${p.file}`);
        else if (!declaresTest(readFileSync(file, "utf8"), p.test)) problems.push(`line ${c.line}: no test "${p.test}" in ${p.file}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("docs/claims.md (happy)", () => {
  it("cuts pages into sentences and table rows", () => {
    expect(sentences("One thing. Another (with a note). “Quoted” too")).toEqual(["One thing.", "Another (with a note).", "“Quoted” too"]);
    const html = `<nav><ul><li>skip</li></ul></nav><p>A <a href="x">link</a> &amp; more. Second.</p><table><thead><tr><th>H</th></tr></thead><tbody><tr><th>a</th><td>b</td></tr></tbody></table>`;
    expect(pageUnits(html)).toEqual(["A link & more.", "Second.", "a | b"]);
  });

  it("finds declared tests by exact name only", () => {
    const src = `describe("x", () => { it("does the thing", () => {}); test.skip('other', () => {}); });`;
    expect(declaresTest(src, "does the thing")).toBe(true);
    expect(declaresTest(src, "other")).toBe(true);
    expect(declaresTest(src, "does the")).toBe(false);
  });
});
