/* global sessionStorage -- only inside page.evaluate() callbacks, which run in the browser */
// Shared steps of the journey and page suites (test/e2e/journey*.test.mjs,
// pages*.test.mjs): API calls as the signed-in user, a fresh account for a
// local user, photo fixtures, and checks that run on every page.
import assert from "node:assert/strict";
import { API_URL, assertAccessible, BASE_URL, launchBrowser, screenshots, sessionToken, signInAsLocalUser, VIEWPORTS } from "./helpers.mjs";

/** fetch() against the API as the holder of `token` (a session JWT or a bp_ key). */
export function apiAs(token) {
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    return fetch(`${API_URL}${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  };
}

export async function json(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Signs in as a local user with a brand-new, empty account: signs in,
 * deletes whatever account that user had through the API, then signs in
 * again. Tests that look at empty states or counts start from here, so the
 * order of test files does not matter.
 */
export async function freshAccount(page, user) {
  await signInAsLocalUser(page, user);
  const old = apiAs(await sessionToken(page));
  // The old tab drops its session and leaves the app before the deletion, so no call of that session is
  // in flight or made afterwards (it would be refused with account_deleted and land in the test's
  // console problems).
  await page.evaluate(() => sessionStorage.clear());
  await page.goto("about:blank");
  const res = await old("/v1/account", { method: "DELETE", json: { confirm: "DELETE" } });
  const body = await json(res);
  assert.equal(body.status, "deleted", "the old account is fully deleted before the test starts");
  // A session issued in the same second as the deletion counts as issued before it (account_deleted,
  // docs/decisions/0010): the new sign-in waits for the next second, as a person would.
  await new Promise((r) => setTimeout(r, 1100));
  await signInAsLocalUser(page, user);
  const token = await sessionToken(page);
  return { token, api: apiAs(token) };
}

/**
 * A browser for test `t` (closed when the test ends) signed in as `user` with
 * a brand-new account (freshAccount): the browser's page and problems, and
 * the account's token and API.
 */
export async function freshAccountBrowser(t, user) {
  const b = await launchBrowser();
  t.after(() => b.close());
  return { ...b, ...(await freshAccount(b.page, user)) };
}

/** Accessible at both sizes (axe: WCAG 2.x A/AA) and screenshotted at both; leaves the page at its original size. */
export async function checkPage(page, name) {
  const original = page.viewportSize();
  for (const size of ["phone", "desktop"]) {
    await page.setViewportSize(VIEWPORTS[size]);
    await assertAccessible(page);
  }
  if (original) await page.setViewportSize(original);
  await screenshots(page, name);
}

/** Every URL the page requests, to prove nothing leaves for a third party. */
export function recordRequests(page) {
  const urls = [];
  page.on("request", (req) => urls.push(req.url()));
  return urls;
}

/** Origins the app may talk to: itself and its API (and, for checkout, the payment page the user is sent to). */
export function thirdParty(urls, allowed = []) {
  const ok = new Set([new URL(BASE_URL).origin, new URL(API_URL).origin, ...allowed]);
  return urls.filter((u) => /^https?:/.test(u) && !ok.has(new URL(u).origin));
}

/** Every request the page makes, with its method and resource type. */
export function recordCalls(page) {
  const calls = [];
  page.on("request", (req) => calls.push({ url: req.url(), method: req.method(), type: req.resourceType() }));
  return calls;
}

/**
 * The calls that are neither a page or static file of the SPA nor a documented
 * operation of the API (`/v1/openapi.json`): where first-party telemetry (an
 * events endpoint, a beacon, a ping) would show up, since the third-party
 * check cannot see it. Preflights count against the path they ask about.
 */
export async function undocumentedCalls(calls) {
  const spec = await (await fetch(`${API_URL}/v1/openapi.json`)).json();
  const ops = Object.entries(spec.paths).flatMap(([path, item]) =>
    ["get", "post", "put", "patch", "delete"].filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), re: new RegExp(`^${path.replace(/\{[^}/]+\}/g, "[^/]+")}$`) })),
  );
  const app = new URL(BASE_URL).origin;
  const api = new URL(API_URL).origin;
  return calls.filter(({ url, method, type }) => {
    if (!/^https?:/.test(url)) return false; // data: and blob: URLs the page made itself
    if (!["document", "stylesheet", "script", "image", "font", "fetch", "xhr", "manifest", "media", "other"].includes(type)) return true; // ping, beacon, eventsource, websocket...
    const u = new URL(url);
    if (u.origin !== app && u.origin !== api) return true;
    if (u.origin === app && !u.pathname.startsWith("/v1/")) {
      // The face check's worker fetches its WebAssembly and models, the app's own hashed files (issue 20).
      const ownAsset = type === "fetch" && u.pathname.startsWith("/assets/");
      return !(method === "GET" && (ownAsset || ["document", "stylesheet", "script", "image", "font", "manifest", "other"].includes(type)));
    }
    const asked = method === "HEAD" ? "GET" : method;
    return !ops.some((o) => (method === "OPTIONS" || o.method === asked) && o.re.test(u.pathname));
  });
}

export { photoPng } from "../fixtures/gradient-png.mjs";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy (or throws after `timeoutMs`). */
export async function eventually(fn, { timeoutMs = 60_000, everyMs = 500, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * The site's one navigation (issue 19 item 3), opened first on a phone where
 * it folds behind the "Menu" button. Returns the navigation.
 */
export async function openNav(page) {
  const menu = page.locator("header .menu-button");
  if ((await menu.isVisible()) && (await menu.getAttribute("aria-expanded")) !== "true") await menu.click();
  return page.locator("#site-nav");
}

/**
 * From anywhere in the app: opens Create, accepts the consent if asked, picks both parent photos
 * (`photo(parent, n)` is the file for setInputFiles, n = seed for the mother and seed + 1 for the
 * father), waits for their upload, runs `beforeSubmit(page)` if given, and starts a generation.
 * Returns its id and the generation once completed. `check` takes checkPage screenshots on the way.
 */
export async function makeGeneration(page, api, seed, { photo, check = false, beforeSubmit } = {}) {
  await (await openNav(page)).getByRole("link", { name: "Create" }).click();
  await page.getByRole("heading", { level: 1, name: "Create a baby picture" }).waitFor();
  const consent = page.getByRole("button", { name: "Agree and continue" });
  const photos = page.getByRole("heading", { name: "1. Two photos" });
  await Promise.race([consent.waitFor(), photos.waitFor()]);
  if (await consent.isVisible()) {
    if (check) await checkPage(page, "create-consent");
    await page.getByRole("checkbox", { name: /have agreed to their photos being used/ }).check();
    await page.getByRole("checkbox", { name: /I accept the terms/ }).check();
    await consent.click();
  }
  for (const [parent, n] of [
    ["mother", seed],
    ["father", seed + 1],
  ]) {
    await page.getByLabel(`Choose a photo of the ${parent}`).setInputFiles(photo(parent, n));
  }
  for (const parent of ["mother", "father"]) {
    await page.getByRole("button", { name: `Choose another photo for the ${parent}` }).waitFor({ timeout: 60_000 });
  }
  if (check) await checkPage(page, "create-ready");
  await beforeSubmit?.(page);
  await page.getByRole("button", { name: "Make my baby picture" }).click();
  await page.waitForURL((url) => /^\/app\/generations\/gen_[0-9a-f]{32}$/.test(url.pathname), { timeout: 30_000 });
  const id = new URL(page.url()).pathname.split("/").pop();
  const generation = await eventually(
    async () => {
      const g = await json(await api(`/v1/generations/${id}`));
      return g.status === "queued" || g.status === "submitted" ? null : g;
    },
    { timeoutMs: 90_000, everyMs: 1_000, what: `generation ${id} to finish` },
  );
  assert.equal(generation.status, "completed", `generation ${id}: ${JSON.stringify(generation.error)}`);
  return { id, generation };
}
