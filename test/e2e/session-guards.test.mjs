/* global sessionStorage -- only inside page.evaluate() callbacks, which run in the browser */
// Issue 17, items 2 and 3 in the browser: a sensitive change with a stale
// sign-in check asks "Confirm it's you" and then succeeds; an idle tab warns,
// then signs out (the SPA's default of 30 minutes, on a fake clock).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ageSignInCheck, API_URL, assertNoProblems, launchBrowser, sessionToken, signInAsLocalUser } from "./helpers.mjs";

/** Calls the SPA makes without a session (publicApi in web/src): anything else must carry a bearer token. */
const PUBLIC_PATHS = /^\/v1\/(dev\/|keys\/upload$|billing\/packs$|privacy(-requests)?$|transparency$|incidents\/)/;

/** Every API request of the page that left without its token (web/src/lib/api/signed-in-token.ts forbids it). */
function watchBareRequests(page) {
  const bare = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith("/v1/") || PUBLIC_PATHS.test(url.pathname) || request.method() === "OPTIONS") return;
    // The headers the page gave the request (fetch's or XHR's Authorization is among them).
    if (!request.headers()["authorization"]) bare.push(`${request.method()} ${url.pathname}`);
  });
  return bare;
}

describe("session guards", () => {
  test("changing the keep-photos setting with a 20-minute-old sign-in check asks to confirm, then saves", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await signInAsLocalUser(b.page, "bob");
    // Age the stored session's last check by 20 minutes (a refresh would keep it).
    await ageSignInCheck(b.page, "bob", 20);
    await b.page.goto("/app/account");
    await b.page.getByRole("heading", { name: "Parent photos" }).waitFor();
    await b.page.getByLabel("Keep them for 7 days").check();
    await b.page.getByRole("button", { name: "Save" }).click();

    const dialog = b.page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: /^Sign in again as/ }).click();
    await b.page.getByRole("status").filter({ hasText: "Saved." }).waitFor();

    const settings = await fetch(`${API_URL}/v1/me/settings`, { headers: { authorization: `Bearer ${await sessionToken(b.page)}` } });
    assert.deepEqual(await settings.json(), { keepPhotosDays: 7 });
    // 403 reverification_required is an expected answer here, not a problem; nothing else may be.
    assertNoProblems(b.problems.filter((p) => !p.includes("403")));
  });

  test("cancelling the check changes nothing", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await signInAsLocalUser(b.page, "carol");
    const aged = await ageSignInCheck(b.page, "carol", 20);
    await b.page.goto("/app/account");
    await b.page.getByLabel("Keep them for 30 days").check();
    await b.page.getByRole("button", { name: "Save" }).click();
    const dialog = b.page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await b.page.getByText("You cancelled the sign-in check, so nothing was changed.").waitFor();
    const settings = await fetch(`${API_URL}/v1/me/settings`, { headers: { authorization: `Bearer ${aged.token}` } });
    assert.notDeepEqual(await settings.json(), { keepPhotosDays: 30 });
  });

  test("an idle tab warns a minute before and signs out after 30 minutes", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await b.page.clock.install();
    const bare = watchBareRequests(b.page);
    await signInAsLocalUser(b.page, "alice");
    await b.page.clock.fastForward("28:00");
    assert.equal(await b.page.getByTestId("idle-warning").count(), 0, "no warning before the last minute");
    await b.page.clock.fastForward("01:05");
    await b.page.getByTestId("idle-warning").waitFor();
    await b.page.clock.fastForward("01:00");
    await b.page.waitForURL((url) => url.pathname === "/sign-in");
    await b.page.getByTestId("idle-signed-out").waitFor();
    assert.equal(await b.page.evaluate(() => sessionStorage.getItem("babypic.localSession")), null);
    // Whatever still polled when the session ended (the support banner every 15 s, the dashboard's
    // queries) stops without calling the API bare; a bare call would also log a 401 to the console.
    await b.page.clock.fastForward("01:00");
    assert.deepEqual(bare, [], "a signed-in request left without its token");
    assertNoProblems(b.problems);
  });

  test("activity dismisses the warning and keeps the session", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await b.page.clock.install();
    await signInAsLocalUser(b.page, "alice");
    await b.page.clock.fastForward("29:10");
    await b.page.getByTestId("idle-warning").waitFor();
    await b.page.getByRole("button", { name: "Stay signed in" }).click();
    await b.page.getByTestId("idle-warning").waitFor({ state: "detached" });
    await b.page.clock.fastForward("20:00");
    assert.equal(new URL(b.page.url()).pathname, "/app");
    assertNoProblems(b.problems);
  });

  test("Settings shows two-factor as off for a local user, with no Clerk page to open", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await signInAsLocalUser(b.page, "alice");
    await b.page.goto("/app/account");
    const section = b.page.getByTestId("two-factor");
    await section.getByRole("heading", { name: "Two-factor authentication" }).waitFor();
    assert.equal((await b.page.getByTestId("two-factor-state").textContent())?.trim(), "off");
    assert.equal(await section.getByRole("link").count(), 0);
    assertNoProblems(b.problems);
  });
});
