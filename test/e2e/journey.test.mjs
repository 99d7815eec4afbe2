/* global sessionStorage -- only inside page.evaluate() callbacks, which run in the browser */
// The whole journey in the browser with two local users (issue 8, item 5):
// sign up, consent, upload, generate, view, download, read the activity
// log, export and open the ZIP, delete one picture, delete the account and
// sign in again to an empty one. Along the way, user B never sees user A's
// pictures, and A's image links stop working when A deletes them.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { strFromU8, unzipSync } from "fflate";
import { assertNoProblems, launchBrowser, sessionToken, signInAsLocalUser, VIEWPORTS } from "./helpers.mjs";
import { facePhoto } from "./face-cases.mjs";
import { apiAs, checkPage, eventually, freshAccount, json, makeGeneration, openNav, recordCalls, thirdParty, undocumentedCalls } from "./journey-helpers.mjs";

/** Makes a picture from two frontal face photos (seed picks them); returns its id once completed. */
async function makePicture(page, api, seed, { check = false } = {}) {
  const photo = (parent, n) => facePhoto(`frontal ${n + 1} `, `${parent}.jpg`);
  return (await makeGeneration(page, api, seed, { photo, check })).id;
}

/** Every <img> in the list has loaded real pixels. */
async function imagesLoaded(locator) {
  await eventually(async () => (await locator.evaluateAll((imgs) => imgs.every((i) => i.complete && i.naturalWidth > 0))) && (await locator.count()) > 0, {
    what: "images to load",
    timeoutMs: 20_000,
  });
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("the full journey with two users (happy, security)", () => {
  let alice;
  let bob;
  const calls = [];
  before(async () => {
    alice = await launchBrowser({ viewport: VIEWPORTS.desktop });
    bob = await launchBrowser({ viewport: VIEWPORTS.phone });
    // Everything both browsers request during the journey, for the last test.
    calls.push(recordCalls(alice.page), recordCalls(bob.page));
  });
  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
  });

  const state = {};

  test("A and B sign up, consent, upload two photos and generate; the result shows in each one's gallery only", async () => {
    const a = await freshAccount(alice.page, "alice");
    const b = await freshAccount(bob.page, "bob");
    Object.assign(state, { aApi: a.api, bApi: b.api });
    state.aliceId = (await json(await a.api("/v1/me"))).id;
    state.bobId = (await json(await b.api("/v1/me"))).id;

    state.first = await makePicture(alice.page, a.api, 1, { check: true });
    await checkPage(alice.page, "journey-result");
    state.second = await makePicture(alice.page, a.api, 3);
    state.bobs = await makePicture(bob.page, b.api, 5);

    // A's gallery: both pictures, newest first, images loaded through signed links.
    await (await openNav(alice.page)).getByRole("link", { name: "Pictures" }).click();
    const tiles = alice.page.getByTestId("gallery-item");
    await tiles.first().waitFor();
    assert.deepEqual(await tiles.evaluateAll((els) => els.map((e) => e.getAttribute("data-generation-id"))), [state.second, state.first]);
    await imagesLoaded(alice.page.locator(".gallery-grid img"));
    const srcs = await alice.page.locator(".gallery-grid img").evaluateAll((imgs) => imgs.map((i) => i.currentSrc));
    assert.ok(srcs.every((s) => /\/v1\/files\/img_[0-9a-f]+\?.*sig=/.test(s)), "images load through signed links");
    await checkPage(alice.page, "gallery");

    // B's gallery: only B's picture.
    await (await openNav(bob.page)).getByRole("link", { name: "Pictures" }).click();
    await bob.page.getByTestId("gallery-item").first().waitFor();
    assert.deepEqual(await bob.page.getByTestId("gallery-item").evaluateAll((els) => els.map((e) => e.getAttribute("data-generation-id"))), [state.bobs]);
    await checkPage(bob.page, "gallery-phone-user");
    assertNoProblems(alice.problems);
    assertNoProblems(bob.problems);
  });

  test("A opens a picture and downloads it", async () => {
    const { page } = alice;
    await page.getByTestId("gallery-item").filter({ has: page.locator(`[href="/app/gallery/${state.first}"]`) }).getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "Your baby picture" }).waitFor();
    await imagesLoaded(page.locator(".result-image"));
    state.firstLink = await page.locator(".result-image").first().evaluate((i) => i.currentSrc);
    await checkPage(page, "gallery-item");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: /^Download/ }).first().click()]);
    assert.match(download.suggestedFilename(), /^babypic-img_[0-9a-f]{32}\.(jpg|png|webp)$/);
    const bytes = await readFile(await download.path());
    assert.ok(bytes.length > 1000, "a real image");
    assert.ok(bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])) || bytes.subarray(1, 4).toString() === "PNG", "JPEG or PNG bytes");
    assertNoProblems(alice.problems);
  });

  test("B never sees A's pictures or activity, and gets 'not found' for A's ids", async () => {
    const { page } = bob;
    await page.goto(`/app/gallery/${state.first}`);
    await page.getByRole("heading", { level: 1, name: "Picture not found" }).waitFor();
    assert.equal((await state.bApi(`/v1/generations/${state.first}`)).status, 404);
    const listed = (await json(await state.bApi("/v1/generations?limit=100"))).items.map((g) => g.id);
    assert.deepEqual(listed, [state.bobs]);
    await (await openNav(page)).getByRole("link", { name: "Activity" }).click();
    await page.getByTestId("activity-event").first().waitFor();
    const text = await page.locator("main").innerText();
    for (const id of [state.first, state.second, state.aliceId]) assert.ok(!text.includes(id.slice(0, 16)), `B's log never mentions ${id}`);
    // The 404 above is the expected answer; nothing else failed.
    assertNoProblems(bob.problems.filter((p) => !/404/.test(p)));
  });

  test("A's activity log shows the upload, generation, links and download, readably", async () => {
    const { page } = alice;
    await (await openNav(page)).getByRole("link", { name: "Activity" }).click();
    await page.getByTestId("activity-event").first().waitFor();
    const actions = new Set(await page.getByTestId("activity-entry").evaluateAll((els) => els.map((e) => e.getAttribute("data-action"))));
    for (const a of ["account.created", "consent.given", "photo.uploaded", "generation.created", "generation.completed", "link.issued", "link.used", "file.downloaded"]) {
      assert.ok(actions.has(a), `the log has ${a}; it has ${[...actions].join(", ")}`);
    }
    // Grouped: the moment reads "… made a baby picture" (or "made 2 baby pictures") without expanding (with "You created your account and" when both
    // happened in the same moment); each entry's sentence shows once expanded.
    assert.match(await page.locator("main").innerText(), /You (created your account and )?made (a baby picture|\d+ baby pictures)/);
    await page.locator("details.activity-details").evaluateAll((els) => els.forEach((d) => (d.open = true)));
    const text = await page.locator("main").innerText();
    assert.match(text, /You uploaded a photo/);
    assert.match(text, /You downloaded a file/);
    await checkPage(page, "activity-after-journey");
    assertNoProblems(alice.problems);
  });

  test("A exports everything, downloads the ZIP from the page and its manifest checks out", async () => {
    const { page } = alice;
    await (await openNav(page)).getByRole("link", { name: "Settings" }).click();
    await page.getByRole("button", { name: "Export my data" }).click();
    const ready = page.getByTestId("export-ready");
    await ready.waitFor({ timeout: 90_000 });
    const link = ready.getByRole("link", { name: "Download ZIP" });
    await link.waitFor();
    await checkPage(page, "settings-export-ready");
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const zip = unzipSync(new Uint8Array(await readFile(await download.path())));
    const manifest = JSON.parse(strFromU8(zip["manifest.json"]));
    assert.equal(manifest.userId, state.aliceId);
    assert.ok(manifest.files.length >= 5);
    for (const f of manifest.files) {
      assert.ok(zip[f.path], `${f.path} is in the ZIP`);
      assert.equal(sha256(zip[f.path]), f.sha256, `${f.path} matches its checksum`);
    }
    const paths = Object.keys(zip);
    for (const name of ["account.json", "audit-log.json", "payments.json", "privacy.json"]) assert.ok(paths.includes(name), name);
    for (const id of [state.first, state.second]) {
      assert.ok(paths.includes(`generations/${id}/metadata.json`), `metadata of ${id}`);
      assert.ok(paths.some((p) => p.startsWith(`generations/${id}/output-`)), `the image of ${id}`);
    }
    const everything = paths.map((p) => (p.endsWith(".json") ? strFromU8(zip[p]) : p)).join("\n");
    assert.ok(!everything.includes(state.bobs) && !everything.includes(state.bobId), "nothing of B's in A's export");
    assertNoProblems(alice.problems);
  });

  test("A deletes one picture: a receipt, gone from the gallery, and its link stops working at once", async () => {
    const { page } = alice;
    assert.equal((await fetch(state.firstLink)).status, 200, "the link works before");
    await page.goto(`/app/gallery/${state.first}`);
    await page.getByRole("button", { name: "Delete this picture" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this picture?" });
    await dialog.waitFor();
    await checkPage(page, "gallery-delete-confirm");
    await dialog.getByRole("button", { name: "Delete picture" }).click();
    await page.getByRole("heading", { level: 1, name: "Picture deleted" }).waitFor();
    const receipt = page.getByTestId("deletion-receipt");
    assert.match(await receipt.innerText(), /Generations: 1/);
    assert.match(await page.getByTestId("receipt-id").innerText(), /^rcp_/);
    await checkPage(page, "gallery-deleted-receipt");

    assert.equal((await fetch(state.firstLink)).status, 403, "the signed link is dead");
    await page.getByRole("link", { name: "Back to your pictures" }).click();
    await page.getByTestId("gallery-item").first().waitFor();
    assert.deepEqual(await page.getByTestId("gallery-item").evaluateAll((els) => els.map((e) => e.getAttribute("data-generation-id"))), [state.second]);
    await imagesLoaded(page.locator(".gallery-grid img"));
    state.secondLink = await page.locator(".gallery-grid img").first().evaluate((i) => i.currentSrc);
    assertNoProblems(alice.problems);
  });

  test("A deletes the account: a receipt, signed out, links dead, and signing in again starts an empty account", async () => {
    const { page } = alice;
    assert.equal((await fetch(state.secondLink)).status, 200);
    await (await openNav(page)).getByRole("link", { name: "Settings" }).click();
    const confirm = page.getByLabel("Type DELETE to confirm");
    await confirm.fill("delete");
    assert.ok(await page.getByRole("button", { name: "Delete my account" }).isDisabled(), "only the exact word enables it");
    await confirm.fill("DELETE");
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.getByTestId("account-deleted").waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId("deletion-receipt").innerText(), /Accounts: 1/);
    await eventually(async () => (await page.evaluate(() => sessionStorage.getItem("babypic.localSession"))) === null, { what: "sign-out" });
    await checkPage(page, "account-deleted");
    assert.equal((await fetch(state.secondLink)).status, 403, "links die with the account");
    assert.equal((await state.bApi(`/v1/generations/${state.bobs}`)).status, 200, "B is untouched");

    await signInAsLocalUser(page, "alice");
    const again = apiAs(await sessionToken(page));
    const me = await json(await again("/v1/me"));
    assert.notEqual(me.id, state.aliceId, "a new account");
    assert.equal((await page.getByTestId("account-id").textContent())?.trim(), me.id);
    await (await openNav(page)).getByRole("link", { name: "Pictures" }).click();
    await page.getByRole("heading", { level: 2, name: "No pictures yet" }).waitFor();
    await (await openNav(page)).getByRole("link", { name: "Activity" }).click();
    await page.getByTestId("activity-event").first().waitFor();
    const text = await page.locator("main").innerText();
    for (const id of [state.first, state.second, state.aliceId]) assert.ok(!text.includes(id.slice(0, 16)), `the new log knows nothing of ${id}`);
    assert.equal((await json(await again("/v1/generations"))).items.length, 0);
    assertNoProblems(alice.problems);
  });

  test("no tracking of any kind: every request was the SPA's own files or a documented API operation, and no cookie was set", async () => {
    const all = calls.flat();
    assert.ok(all.length > 50, `the journey made requests (${all.length})`);
    assert.ok(all.some((c) => c.type === "fetch" || c.type === "xhr"), "API calls were seen");
    assert.deepEqual(thirdParty(all.map((c) => c.url)), [], "nothing left for a third party");
    // A first-party analytics endpoint, a beacon or a ping would be ours, so only this catches it.
    assert.deepEqual(await undocumentedCalls(all), [], "every API call is an operation in /v1/openapi.json");
    // "BabyPic sets no cookies": none in either browser after the whole journey (sessions live in sessionStorage).
    for (const b of [alice, bob]) assert.deepEqual(await b.context.cookies(), [], "no cookies");
  });
});
