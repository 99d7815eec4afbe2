// Support sessions (issue 16 item 1, docs/decisions/0019-support-sessions.md):
// carol (admin) opens a session on alice's account from the /admin console
// and reads its facts; alice sees the banner and the activity entry at once
// and ends the session; carol's next read is refused. Accessible (axe) at
// phone and desktop sizes. The picture flow: carol, an engineer in local
// development only (ENGINEER_USER_IDS in wrangler.toml), asks for one of
// alice's generations; alice allows it from the banner; carol sees the
// picture, and both logs show it; a second request alice refuses shows
// nothing. The rules themselves (two-person rule, windows, races) are proven
// in test/privacy-team/support-sessions.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { facePhoto } from "./face-cases.mjs";
import { assertNoProblems, launchBrowser, sessionToken, signInAsLocalUser, VIEWPORTS } from "./helpers.mjs";
import { apiAs, checkPage, json, makeGeneration } from "./journey-helpers.mjs";

describe("support sessions", () => {
  test("carol opens a session from the console and reads the facts; alice sees the banner and her activity at once, ends it, and carol is refused", async (t) => {
    const operator = await launchBrowser({ viewport: VIEWPORTS.phone });
    const user = await launchBrowser({ viewport: VIEWPORTS.desktop });
    t.after(() => Promise.all([operator.close(), user.close()]));
    await signInAsLocalUser(user.page, "alice");
    const aliceId = (await json(await apiAs(await sessionToken(user.page))("/v1/me"))).id;
    const ticket = `T-${Date.now()}`;
    const reason = "Alice wrote that her credits look wrong";

    const page = operator.page;
    await signInAsLocalUser(page, "carol");
    await page.goto("/admin");
    await page.getByRole("heading", { level: 1, name: "Operator console" }).waitFor();
    const form = page.getByRole("form", { name: "Open a support session" });
    await form.getByLabel("Account (usr_…)").fill(aliceId);
    await form.getByLabel("Reason (the user reads it)").fill(reason);
    await form.getByLabel("Ticket reference").fill(ticket);
    assert.equal(await form.getByLabel("Minutes").inputValue(), "30", "30 minutes by default");
    await form.getByRole("button", { name: "Open session" }).click();
    const card = page.getByTestId("support-session-card").filter({ hasText: ticket });
    await card.waitFor();
    await card.getByRole("button", { name: "Show account facts" }).click();
    const facts = card.getByTestId("support-facts");
    await facts.waitFor();
    assert.match(await facts.innerText(), /Credits\s+\d+/);
    assert.equal(await facts.locator("img").count(), 0, "no pictures among the facts");
    await checkPage(page, "admin-support-session");

    // Alice: the banner on any signed-in page, and the entry in her activity log.
    await user.page.goto("/app");
    const banner = user.page.getByTestId("support-session-banner");
    await banner.filter({ hasText: ticket }).waitFor();
    assert.ok((await banner.innerText()).includes(reason));
    await checkPage(user.page, "support-session-banner");
    await user.page.goto("/app/activity");
    await user.page.locator(".activity-support").filter({ hasText: `support session opened for 30 minutes (ticket ${ticket})` }).first().waitFor();
    await user.page.locator(".activity-support").filter({ hasText: "Support viewed your account facts" }).first().waitFor();

    await banner.getByRole("button", { name: "End this support session now" }).click();
    await banner.waitFor({ state: "detached" });
    await user.page.reload();
    // The user's own entries are folded into their moment on the Activity page (shown when expanded).
    await user.page.getByTestId("activity-entry").filter({ hasText: `You ended the support session (ticket ${ticket})` }).first().waitFor({ state: "attached" });

    await card.getByRole("button", { name: "Show account facts" }).click();
    await card.getByText("This support session has ended or expired").waitFor();
    assertNoProblems(user.problems);
    // The refused read is an expected 403 in carol's console.
    assertNoProblems(operator.problems.filter((p) => !/403/.test(p)));
  });

  test("carol (a local engineer) asks for a picture, alice allows it from the banner, carol sees it and both logs show it; a refused request shows nothing", async (t) => {
    const operator = await launchBrowser({ viewport: VIEWPORTS.desktop });
    const user = await launchBrowser({ viewport: VIEWPORTS.desktop });
    t.after(() => Promise.all([operator.close(), user.close()]));
    await signInAsLocalUser(user.page, "alice");
    const api = apiAs(await sessionToken(user.page));
    const aliceId = (await json(await api("/v1/me"))).id;
    const { id: genId } = await makeGeneration(user.page, api, 5, { photo: (parent, n) => facePhoto(`frontal ${n + 1} `, `${parent}.jpg`) });
    const ticket = `T-PIC-${Date.now()}`;

    const page = operator.page;
    await signInAsLocalUser(page, "carol");
    await page.goto("/admin");
    const form = page.getByRole("form", { name: "Open a support session" });
    await form.getByLabel("Account (usr_…)").fill(aliceId);
    await form.getByLabel("Reason (the user reads it)").fill("Alice says her picture looks wrong");
    await form.getByLabel("Ticket reference").fill(ticket);
    await form.getByRole("button", { name: "Open session" }).click();
    const card = page.getByTestId("support-session-card").filter({ hasText: ticket });
    const ask = async (why) => {
      const request = card.getByRole("form", { name: "Ask to see a generation's pictures" });
      await request.getByLabel("Generation (gen_…)").fill(genId);
      await request.getByLabel("Why (the user reads it)").fill(why);
      await request.getByRole("button", { name: "Ask" }).click();
      await card.getByTestId("support-picture-request").filter({ hasText: why }).and(card.locator("[data-status=pending]")).waitFor();
    };
    await ask("The colours of the result look broken");

    // Alice allows it from the banner.
    await user.page.goto("/app");
    const banner = user.page.getByTestId("support-session-banner");
    const asked = banner.getByTestId("support-picture-request").filter({ hasText: "The colours of the result look broken" });
    await asked.waitFor();
    await asked.getByRole("button", { name: "Allow for this session" }).click();
    await asked.waitFor({ state: "detached" });

    // Carol sees the picture (bytes through the checked route, shown from an object URL).
    await page.reload();
    const allowed = card.getByTestId("support-picture-request").filter({ hasText: "The colours of the result look broken" });
    await allowed.and(card.locator("[data-status=approved]")).waitFor();
    await allowed.getByRole("button", { name: "Show the first picture" }).click();
    const img = allowed.getByRole("img", { name: `Picture 1 of generation ${genId}` });
    await img.waitFor();
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    await checkPage(page, "admin-support-picture");

    // A second request, refused: nothing to show.
    await ask("A second look at the background");
    await user.page.reload();
    const second = banner.getByTestId("support-picture-request").filter({ hasText: "A second look at the background" });
    await second.getByRole("button", { name: "Refuse" }).click();
    await second.waitFor({ state: "detached" });
    await page.reload();
    const refused = card.getByTestId("support-picture-request").filter({ hasText: "A second look at the background" });
    await refused.and(card.locator("[data-status=refused]")).waitFor();
    assert.equal(await refused.getByRole("button", { name: "Show the first picture" }).count(), 0);

    // Both logs.
    const entries = page.getByTestId("operator-log-entry");
    for (const action of ["support_image.requested", "support_image.granted_by_user", "support_image.viewed", "support_image.refused_by_user"]) {
      await entries.filter({ hasText: action }).first().waitFor();
    }
    assert.doesNotMatch(await page.getByRole("list", { name: "Operator actions, newest first" }).innerText(), /img_[0-9a-f]{32}/, "no image id in the operator log");
    await user.page.goto("/app/activity");
    await user.page.locator(".activity-support").filter({ hasText: `Support viewed a picture of generation ${genId}` }).first().waitFor();
    await user.page.getByTestId("activity-entry").filter({ hasText: `You let support see the pictures of generation ${genId}` }).first().waitFor({ state: "attached" });
    await user.page.getByTestId("activity-entry").filter({ hasText: `You refused support access to the pictures of generation ${genId}` }).first().waitFor({ state: "attached" });
    await banner.getByRole("button", { name: "End this support session now" }).click();
    await banner.waitFor({ state: "detached" });
    assertNoProblems(user.problems);
    assertNoProblems(operator.problems);
  });
});
