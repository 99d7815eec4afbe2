/**
 * The promise registry behind docs/claims.md: the Security and Privacy pages
 * rendered to text and cut into units (a sentence of a paragraph or list
 * item, or a table row), and the parser of docs/claims.md, which lists each
 * unit either as a promise with the tests that prove it or as "not a
 * promise" with a reason. test/node/claims.test.ts holds both to each other.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createElement, type ComponentType } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { MemoryRouter } from "react-router";
import { privacyFacts, RETENTION } from "../../worker/lib/privacy-facts";
import { whoWeAre } from "../../worker/lib/who-we-are";

/**
 * Who we are is deployment configuration the pages read from /v1/privacy at
 * run time; the rendered promises hold these stand-ins in its place.
 */
export const WHO_WE_ARE_STANDIN = {
  CONTROLLER_NAME: "<controller name>",
  CONTROLLER_ADDRESS: "<controller address>",
  DPO_NAME: "<DPO name>",
  DPO_EMAIL: "dpo@<domain>",
  PRIVACY_EMAIL: "privacy@<domain>",
  SECURITY_EMAIL: "security@<domain>",
} as const;

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#x27": "'", "#39": "'", nbsp: " " };

function decode(text: string): string {
  return text.replace(/&(#x27|#39|amp|lt|gt|quot|nbsp);/g, (_, e: string) => ENTITIES[e] ?? "");
}

/** One line of text, spaces folded, curly quotes kept as the page shows them. */
export function normalize(text: string): string {
  return decode(text.replace(/<[^>]+>/g, ""))
    .replace(/\s+/g, " ")
    .trim();
}

/** Sentences of a paragraph: split after . ! ? when the next one starts like a sentence. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[A-Z“"(])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The units of a rendered page: sentences of `<p>` and `<li>` (outside the
 * page's table of contents), and table body rows as "cell | cell | cell".
 * Headings are titles, not promises.
 */
export function pageUnits(html: string): string[] {
  const body = html.replace(/<nav[\s\S]*?<\/nav>/g, "").replace(/<thead>[\s\S]*?<\/thead>/g, "");
  const units: string[] = [];
  for (const m of body.matchAll(/<(p|li|tr)\b[^>]*>([\s\S]*?)<\/\1>/g)) {
    const [, tag = "", inner = ""] = m;
    if (tag === "tr") {
      const cells = [...inner.matchAll(/<(td|th)\b[^>]*>([\s\S]*?)<\/\1>/g)].map((c) => normalize(c[2] ?? ""));
      units.push(cells.join(" | "));
    } else {
      units.push(...sentences(normalize(inner)));
    }
  }
  return [...new Set(units)];
}

/** The page as a browser shows it once GET /v1/privacy has answered (with the stand-ins above). */
export function renderPage(page: ComponentType): string {
  const client = new QueryClient();
  client.setQueryData(["privacy-facts"], privacyFacts(RETENTION.signedLinkMaxSeconds, whoWeAre(WHO_WE_ARE_STANDIN)));
  return renderToStaticMarkup(createElement(QueryClientProvider, { client }, createElement(MemoryRouter, null, createElement(page))));
}

export interface Proof {
  file: string;
  test: string;
}

export interface ClaimEntry {
  page: string;
  text: string;
  /** Empty for "not a promise" entries. */
  proofs: Proof[];
  /** Why a unit is not a promise (headings of lists, pointers, advice). */
  why: string | null;
  line: number;
}

/**
 * docs/claims.md: `## <page> page` sections; each unit a line `- "<text>"`,
 * followed by `  - proof: \`<file>\` › "<test name>"` lines (one or more) or
 * one `  - not a promise: <reason>` line.
 */
export function parseClaims(markdown: string): ClaimEntry[] {
  const entries: ClaimEntry[] = [];
  let page = "";
  let current: ClaimEntry | null = null;
  markdown.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    const heading = /^## (.+?) page\b/.exec(line);
    if (heading) {
      page = heading[1] ?? "";
      current = null;
      return;
    }
    const unit = /^- "(.*)"$/.exec(line);
    if (unit) {
      current = { page, text: unit[1] ?? "", proofs: [], why: null, line: i + 1 };
      entries.push(current);
      return;
    }
    if (!current) return;
    const proof = /^ {2}- proof: `([^`]+)` › "(.+)"$/.exec(line);
    if (proof) {
      current.proofs.push({ file: proof[1] ?? "", test: proof[2] ?? "" });
      return;
    }
    const why = /^ {2}- not a promise: (.+)$/.exec(line);
    if (why) current.why = why[1] ?? "";
  });
  return entries;
}

/** Does `source` declare a test (it/test, any modifier) with exactly this name? */
export function declaresTest(source: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // it("…"), test.skip("…"), and the name of it.each([...])("…").
  return new RegExp(`(?:\\b(?:it|test)(?:\\.\\w+)*|\\))\\(\\s*(["'\`])${escaped}\\1`).test(source);
}
