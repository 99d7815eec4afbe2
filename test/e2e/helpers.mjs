/* global document, sessionStorage -- only inside page.evaluate() callbacks, which run in the browser */
// Helpers for the browser tests (node:test + playwright-core + Debian's
// Chromium). The app under test is started by test/e2e/run.mjs, which passes
// its URL in BABYPIC_E2E_URL. Add tests as test/e2e/<behaviour>.test.mjs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.BABYPIC_E2E_URL ?? "http://127.0.0.1:5173";
export const API_URL = process.env.BABYPIC_E2E_API_URL ?? "http://127.0.0.1:8787";
export const CHROMIUM = process.env.BABYPIC_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = fileURLToPath(new URL("../../test-results/screenshots/", import.meta.url));

export const VIEWPORTS = Object.freeze({
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
});

// Headless, no sandbox (containers run as root), and nothing that phones
// home: no QUIC, background networking, component updates or sync.
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Chromium with a fresh profile (its own --user-data-dir, so no two
 * tests share cookies or storage). `problems` collects console errors, page
 * errors, CSP violations and 5xx answers; `close()` removes the profile.
 */
export async function launchBrowser({ viewport = VIEWPORTS.desktop } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "babypic-e2e-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    baseURL: BASE_URL,
    locale: "en-GB",
    timezoneId: "UTC",
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = watchProblems(page);
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Everything that should never happen on a healthy page. */
export function watchProblems(page) {
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("response", (res) => {
    if (res.status() >= 500) problems.push(`HTTP ${res.status()} from ${res.request().method()} ${res.url()}`);
  });
  return problems;
}

export function assertNoProblems(problems) {
  if (problems.length) throw new Error(`the page reported problems:\n  ${problems.join("\n  ")}`);
}

/** Signs in through "Sign in as a local user" and waits for the dashboard. */
export async function signInAsLocalUser(page, user = "alice") {
  await page.goto("/sign-in");
  await page.getByRole("heading", { name: "Sign in as a local user" }).waitFor();
  await page.getByRole("button", { name: new RegExp(`^Sign in as ${user}\\b`, "i") }).click();
  await page.waitForURL((url) => url.pathname === "/app");
  await page.getByRole("heading", { level: 1, name: "Your account" }).waitFor();
}

/** The session token the SPA holds (local provider), to call the API as that user. */
export async function sessionToken(page) {
  const raw = await page.evaluate(() => sessionStorage.getItem("babypic.localSession"));
  if (!raw) throw new Error("no local session in sessionStorage");
  return JSON.parse(raw).token;
}

/**
 * Makes the page's stored local session look as if its last sign-in check was
 * `minutes` ago: the API's dev endpoint issues such a session for `user` and
 * it replaces the fields of the one in sessionStorage. Returns that session
 * (its `token` calls the API as `user`).
 */
export async function ageSignInCheck(page, user, minutes) {
  const res = await fetch(`${API_URL}/v1/dev/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, verifiedAt: new Date(Date.now() - minutes * 60_000).toISOString() }),
  });
  if (res.status !== 200) throw new Error(`POST /v1/dev/session answered ${res.status}`);
  const aged = await res.json();
  await page.evaluate((s) => {
    const current = JSON.parse(sessionStorage.getItem("babypic.localSession") ?? "{}");
    sessionStorage.setItem("babypic.localSession", JSON.stringify({ ...current, ...s }));
  }, aged);
  return aged;
}

/**
 * Full-page screenshots at phone and desktop sizes under
 * test-results/screenshots/ (ignored by git). Returns the file paths.
 */
export async function screenshots(page, name, sizes = ["phone", "desktop"]) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize();
  const paths = [];
  for (const size of sizes) {
    await page.setViewportSize(VIEWPORTS[size]);
    const path = join(SCREENSHOTS, `${name}-${size}.png`);
    await page.screenshot({ path, fullPage: true, animations: "disabled" });
    paths.push(path);
  }
  if (original) await page.setViewportSize(original);
  return paths;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core (WCAG 2.x A and AA rules) on the current page and returns the
 * violations. Injected through the DevTools protocol, which the page's CSP
 * does not govern, so the test does not need to weaken the CSP.
 */
export async function axeViolations(page, { include } = {}) {
  await page.evaluate(axeSource);
  return page.evaluate(
    async ({ include }) => {
      const result = await globalThis.axe.run(include ? { include: [include] } : document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
      });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
    },
    { include },
  );
}

export async function assertAccessible(page, options) {
  const violations = await axeViolations(page, options);
  if (violations.length) {
    const lines = violations.map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.targets.join(", ")}`);
    throw new Error(`axe-core found ${violations.length} accessibility violation(s) on ${page.url()}:\n  ${lines.join("\n  ")}`);
  }
}
