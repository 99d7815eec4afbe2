/* global document, window, getComputedStyle -- only inside page.evaluate() callbacks, which run in the browser */
// Issue 19: the web experience. The static landing page (three drawn steps,
// privacy at a glance, prices, start) loads no app code; one compact
// navigation (< 64 px at 360 x 740), signed in too; no horizontal scroll at
// 320 px; 44 px touch targets; focus moves to the page heading on
// navigation but not on load; plural forms; and a local stand-in's 2 images
// are distinct and labelled "Preview, not AI" wherever they appear.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertNoProblems, BASE_URL, launchBrowser } from "./helpers.mjs";
import { facePhoto } from "./face-cases.mjs";
import { checkPage, eventually, freshAccount, makeGeneration, openNav } from "./journey-helpers.mjs";

const SMALL_PHONE = { width: 360, height: 740 };
const NARROWEST = { width: 320, height: 640 };
const PUBLIC = ["/", "/security", "/privacy", "/terms", "/transparency", "/contact", "/sign-in"];
const SIGNED_IN = ["/app", "/app/gallery", "/app/billing", "/app/api-keys", "/app/account"];

async function waitForPage(page) {
  await page.locator("main h1").first().waitFor();
}

/** Width the page scrolls to beyond the viewport (0 = no horizontal scroll). */
function overflowX(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Interactive elements in the header and footer smaller than 44 px in either direction. */
function smallTargets(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("header a, header button, footer a, .button")]
      .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
      .map((el) => ({ text: (el.textContent ?? "").trim().slice(0, 30), h: el.getBoundingClientRect().height, w: el.getBoundingClientRect().width }))
      .filter((t) => t.h < 44 || t.w < 44),
  );
}

/** Counts wrongly paired with a noun: "1 days", "2 picture". */
const WRONG_PLURAL = /\b1 (days|hours|minutes|seconds|credits|pictures|images)\b|\b([02-9]|\d{2,}) (day|hour|minute|second|credit|picture|image)\b/;

describe("issue 19: the public pages", () => {
  test("the landing page shows the steps, promises, prices and a start button, and loads no app code", async (t) => {
    const b = await launchBrowser({ viewport: SMALL_PHONE });
    t.after(() => b.close());
    const { page } = b;
    const scripts = [];
    page.on("request", (r) => r.resourceType() === "script" && scripts.push(new URL(r.url()).pathname));
    await page.goto("/");
    await waitForPage(page);
    assert.equal(await page.locator(".three-steps > li").count(), 3, "three steps");
    assert.equal(await page.locator(".three-steps svg[role=img] title").count(), 3, "each step has its drawing, with a text alternative");
    assert.match(await page.locator("main").innerText(), /not pictures BabyPic made/, "the drawings say they are drawings");
    const promises = page.locator("section[aria-labelledby=promises-title] li");
    assert.ok((await promises.count()) >= 4);
    for (const link of await promises.locator("a").all()) assert.match((await link.getAttribute("href")) ?? "", /^\/security#/, "each promise links to its proof");
    await eventually(async () => (await page.getByTestId("price-list").locator("li").count()) > 0, { what: "prices from /v1/billing/packs" });
    assert.equal(await page.getByTestId("start").getAttribute("href"), "/app/create");
    await page.waitForLoadState("networkidle");
    assert.ok(scripts.length >= 1 && scripts.length <= 3, `a small script only: ${scripts.join(", ")}`);
    const app = await (await fetch(`${BASE_URL}/app.html`)).text();
    const appEntry = /<script[^>]+src="([^"]+)"/.exec(app)?.[1];
    assert.ok(appEntry && !scripts.includes(appEntry), "the app's entry is not loaded by the landing page");
    await checkPage(page, "i19-landing");
    assertNoProblems(b.problems);
  });

  test("one compact navigation under 64 px at 360 x 740 that opens as a menu, 44 px targets, no horizontal scroll at 320 px", async (t) => {
    const b = await launchBrowser({ viewport: SMALL_PHONE });
    t.after(() => b.close());
    const { page } = b;
    for (const path of PUBLIC) {
      await page.setViewportSize(SMALL_PHONE);
      await page.goto(path);
      await waitForPage(page);
      const header = await page.locator("header.site-header").boundingBox();
      assert.ok(header && header.height < 64, `${path}: the banner is ${header?.height} px tall`);
      assert.equal(await page.locator("header nav").count(), 1, `${path}: one navigation in the banner`);
      assert.deepEqual(await smallTargets(page), [], `${path}: touch targets of at least 44 px`);
      const nav = await openNav(page);
      assert.ok(await nav.getByRole("link", { name: "Security & privacy" }).isVisible(), `${path}: the menu opens`);
      await page.setViewportSize(NARROWEST);
      assert.equal(await overflowX(page), 0, `${path}: no horizontal scroll at 320 px`);
    }
    assertNoProblems(b.problems);
  });

  test("focus: nothing is focused on load; after a click the new page's heading has focus, without a ring", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    const { page } = b;
    // A prerendered public page (decision 0025) and a page of the app: nothing focused on load.
    await page.goto("/security");
    await waitForPage(page);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), "BODY", "no focus on load (static page)");
    // Moving focus is the app's job on a client-side navigation; between static pages the browser loads a new document.
    await page.goto("/transparency");
    await waitForPage(page);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), "BODY", "no focus on load (app page)");
    await page.getByRole("contentinfo").getByRole("link", { name: "Privacy policy" }).click();
    await page.getByRole("heading", { level: 1, name: "Privacy policy" }).waitFor();
    await eventually(() => page.evaluate(() => document.activeElement?.tagName === "H1" && document.activeElement.closest("main") !== null), {
      what: "focus on the new page's heading in main",
    });
    assert.equal(await page.evaluate(() => document.activeElement?.matches(":focus-visible")), false, "no focus ring after a mouse click");
    assert.doesNotMatch(await page.locator("main").innerText(), WRONG_PLURAL);
    assertNoProblems(b.problems);
  });

  test("the Security page has no wrong plural forms (\"1 days\")", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await b.page.goto("/security");
    await waitForPage(b.page);
    const text = await b.page.locator("main").innerText();
    assert.doesNotMatch(text, WRONG_PLURAL);
    assert.match(text, /1 day\b/, "the retention table says 1 day");
  });
});

describe("issue 19: signed in", () => {
  test("one navigation (no second app bar), compact on a phone, no horizontal scroll at 320 px, accessible", async (t) => {
    const b = await launchBrowser({ viewport: SMALL_PHONE });
    t.after(() => b.close());
    const { page } = b;
    await freshAccount(page, "bob");
    for (const path of SIGNED_IN) {
      await page.setViewportSize(SMALL_PHONE);
      await page.goto(path);
      await waitForPage(page);
      // Counted in the DOM: on a phone the banner's navigation is folded (hidden) until "Menu" is pressed.
      const outsideMain = await page.evaluate(() => [...document.querySelectorAll("nav")].filter((n) => !n.closest("main")).length);
      assert.equal(outsideMain, 2, `${path}: the banner's navigation and the footer's, nothing more`);
      assert.equal(await page.locator(".app-bar").count(), 0, `${path}: no second navigation bar`);
      assert.equal(await page.locator("header nav[aria-label='Your account']").count(), 1, `${path}: the app's sections are in the banner`);
      const header = await page.locator("header.site-header").boundingBox();
      assert.ok(header && header.height < 64, `${path}: the banner is ${header?.height} px tall`);
      assert.deepEqual(await smallTargets(page), [], `${path}: touch targets of at least 44 px`);
      await page.setViewportSize(NARROWEST);
      assert.equal(await overflowX(page), 0, `${path}: no horizontal scroll at 320 px`);
      assert.doesNotMatch(await page.locator("main").innerText(), WRONG_PLURAL, `${path}: plural forms`);
    }
    await page.setViewportSize(SMALL_PHONE);
    await page.goto("/app");
    await waitForPage(page);
    const nav = await openNav(page);
    await nav.getByRole("button", { name: "Sign out" }).waitFor();
    await checkPage(page, "i19-app-menu");
    assertNoProblems(b.problems);
  });

  test("a local stand-in's two images differ, and every view of them says 'Preview, not AI' and never names the Fal model", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    const { page } = b;
    const { api } = await freshAccount(page, "carol");
    // Real faces: the Create page checks each photo on the device before it is sent (issue 20).
    const photo = (parent, n) => facePhoto(`frontal ${(n % 8) + 1} `, `${parent}.jpg`);
    const twoImages = (p) => p.getByRole("radio", { name: "2", exact: true }).check();
    const { id, generation: done } = await makeGeneration(page, api, 41, { photo, beforeSubmit: twoImages });
    assert.equal(done.preview, true);
    assert.doesNotMatch(done.model, /half-moon|fal-ai/, "the API names the stand-in, not the Fal model");
    assert.equal(done.outputs.length, 2);

    // Distinct bytes through the owner's download path.
    const bytes = await Promise.all(done.outputs.map(async (o) => Buffer.from(await (await api(o.downloadPath)).arrayBuffer())));
    assert.ok(bytes[0].length > 1000 && !bytes[0].equals(bytes[1]), "the two images differ");

    // The result page: each image labelled, never drawn wider than its pixels.
    await page.getByTestId("generation-result").waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("preview-badge").count(), 2, "a label on each result image");
    await eventually(async () => page.getByTestId("result-image").evaluateAll((imgs) => imgs.every((i) => i.complete && i.naturalWidth > 0)), { what: "images to load" });
    const sizes = await page.getByTestId("result-image").evaluateAll((imgs) => imgs.map((i) => [i.getBoundingClientRect().width, i.naturalWidth]));
    for (const [shown, natural] of sizes) assert.ok(shown <= natural + 0.5, `shown ${shown} px of a ${natural} px image: never upscaled`);

    // The gallery thumbnail and the details page.
    await (await openNav(page)).getByRole("link", { name: "Pictures" }).click();
    const tile = page.locator(`[data-generation-id="${id}"]`);
    await tile.waitFor();
    assert.equal(await tile.getByTestId("preview-badge").isVisible(), true, "the thumbnail keeps its label");
    await tile.getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "Your baby picture" }).waitFor();
    assert.equal(await page.getByTestId("preview-badge").count(), 2);
    await page.getByTestId("preview-model").waitFor();
    assert.doesNotMatch(await page.locator("main").innerText(), /half-moon|fal-ai/, "the details never name the Fal model");
    await page.getByTestId("parent-mother").waitFor();
    await checkPage(page, "i19-result");
    assertNoProblems(b.problems);
  });
});
