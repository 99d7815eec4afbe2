// Support sessions (issue 16 item 1, docs/decisions/0019-support-sessions.md):
// carol (admin) opens a session on alice's account from the /admin console
// and reads its facts; alice sees the banner and the activity entry at once
// and ends the session; carol's next read is refused. Accessible (axe) at
// phone and desktop sizes. The picture flow (engineer role, the user's
// permission, the two-person rule) is proven in
// test/privacy-team/support-sessions.test.ts: the local sign-in has no engineer.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertNoProblems, launchBrowser, sessionToken, signInAsLocalUser, VIEWPORTS } from "./helpers.mjs";
import { apiAs, checkPage, json } from "./journey-helpers.mjs";

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
});
