/* global document -- only inside page.evaluate() callbacks, which run in the browser */
// The Activity page groups raw entries into events a person recognises, puts
// accesses by others (support staff here) first and marks them, filters by who
// and what, shows no raw ids until an event is expanded, and fits a 360 px
// phone with no sideways scroll. Raw entries stay in the API (and the export).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertNoProblems, launchBrowser, sessionToken, signInAsLocalUser } from "./helpers.mjs";
import { apiAs, checkPage, freshAccount, json } from "./journey-helpers.mjs";

const PHONE_360 = { width: 360, height: 740 };
const RAW_ID = /\b(usr|gen|aud|req|img|pho|key|exp)_[0-9a-f]{8,}/;

describe("activity page (happy)", () => {
  test("events grouped, others first and marked, filters, no raw ids until expanded, no sideways scroll at 360 px", async (t) => {
    const staff = await launchBrowser();
    const user = await launchBrowser({ viewport: PHONE_360 });
    t.after(() => Promise.all([staff.close(), user.close()]));
    const { api } = await freshAccount(user.page, "bob");
    const bobId = (await json(await api("/v1/me"))).id;
    // The user's own moments: looking at pictures and photos, changing a setting.
    await json(await api("/v1/generations?limit=24"));
    await json(await api("/v1/photos?limit=24"));
    await json(await api("/v1/me/support-access", { method: "PUT", json: { hours: 1 } }));
    // Support staff (local carol) look at the account, with a reason.
    await signInAsLocalUser(staff.page, "carol");
    const asStaff = apiAs(await sessionToken(staff.page));
    const reason = "Ticket 5150: user asks why a picture failed";
    // Account reads need a support session the operator opened (decision 0019); the opening is an entry too.
    await json(await asStaff("/v1/admin/support-sessions", { method: "POST", json: { userId: bobId, reason, ticket: "T-5150" } }), 201);
    await json(await asStaff(`/v1/support/users/${bobId}`, { headers: { "x-support-reason": reason } }));

    const { page } = user;
    await page.goto("/app/activity");
    await page.getByTestId("activity-event").first().waitFor();
    const events = page.getByTestId("activity-event");
    // Others first, marked.
    assert.equal(await events.first().getAttribute("data-other"), "support");
    const first = await events.first().innerText();
    assert.match(first, /Support/);
    assert.ok(first.includes(`Support viewed your account summary because: ${reason}`), first);
    // The user's own entries are folded into events, fewer than the raw entries.
    const raw = (await json(await api("/v1/account/audit?limit=100"))).items;
    assert.ok(raw.length > (await events.count()), `${raw.length} entries in ${await events.count()} events`);
    const titles = await page.locator(".activity-title").allInnerTexts();
    assert.ok(titles.some((x) => /You created your account/.test(x)), titles.join(" | "));
    // Everything of this first sitting (sign-up, consent, views, the setting) is one moment, its entries folded in.
    const created = events.filter({ has: page.locator(".activity-title", { hasText: "You created your account" }) });
    const folded = await created.getByTestId("activity-entry").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
    for (const a of ["account.created", "generation.listed", "support.grant_changed"]) assert.ok(folded.includes(a), `${a} folded in: ${folded.join(", ")}`);

    // No raw ids until expanded; expanded, the entries show them.
    assert.doesNotMatch(await page.locator("main").innerText(), RAW_ID);
    await events.first().locator("summary").click();
    assert.match(await events.first().innerText(), RAW_ID);

    // A 360 px phone: nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `sideways scroll of ${overflow}px at 360 px`);

    // Filters: by who, then by what.
    await page.getByLabel("Who").selectOption("support");
    const who = await events.evaluateAll((els) => els.map((e) => e.getAttribute("data-other")));
    assert.ok(who.length >= 2 && who.every((w) => w === "support"), `only support's events (the session's opening and the read): ${who.join(", ")}`);
    await page.getByLabel("Who").selectOption("you");
    await page.getByLabel("What").selectOption("account");
    const filtered = await page.locator(".activity-title").allInnerTexts();
    assert.ok(filtered.length > 0 && filtered.every((x) => !/Support/.test(x)), filtered.join(" | "));
    const actions = await page.getByTestId("activity-entry").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
    assert.ok(actions.length > 0 && actions.every((a) => !/^(generation|photo|link|file|audit|export)\./.test(a)), actions.join(", "));
    await page.getByLabel("What").selectOption("all");
    await page.getByLabel("Who").selectOption("all");
    await checkPage(page, "activity-grouped");
    assertNoProblems(user.problems);
  });
});
