/* global document, getComputedStyle -- only inside page.evaluate() callbacks, which run in the browser */
// The public pages and every signed-in page outside the create flow:
// accessible (axe) at phone and desktop sizes, honest (the facts come from
// worker/lib/privacy-facts.ts), nothing loaded from third parties, empty
// states, keyboard use, and the account features that change state: API
// keys, retention, support access, consent withdrawal and buying credits.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RETENTION, SUB_PROCESSORS, TERMS_VERSION } from "../../worker/lib/privacy-facts.ts";
import { assertNoProblems, BASE_URL, launchBrowser, sessionToken, signInAsLocalUser, VIEWPORTS } from "./helpers.mjs";
import { apiAs, checkPage, eventually, freshAccount, freshAccountBrowser, json, recordRequests, thirdParty, openNav } from "./journey-helpers.mjs";

describe("public pages (happy)", () => {
  test("landing, security, privacy and terms are accessible, state the published facts and load nothing from third parties", async (t) => {
    const b = await launchBrowser({ viewport: VIEWPORTS.phone });
    t.after(() => b.close());
    const requests = recordRequests(b.page);
    const { page } = b;

    await page.goto("/");
    await page.getByRole("heading", { level: 2, name: "What happens to your photos" }).waitFor();
    await checkPage(page, "landing");

    // Reached through the navigation, as a visitor would.
    await (await openNav(page)).getByRole("link", { name: "Security & privacy" }).click();
    await page.getByRole("heading", { level: 1, name: "Security and privacy" }).waitFor();
    const practices = await page.locator("section[aria-labelledby=practices] h3").allTextContents();
    assert.deepEqual(
      practices.map((h) => h.replace(/^\d\.\s*/, "")),
      ["Encrypted connections (TLS)", "Encrypted storage", "Authentication and access", "No sharing, no tracking", "Your rights under the GDPR", "Retention and deletion", "An audit log you can read"],
    );
    const text = await page.locator("main").innerText();
    for (const fact of ["not end-to-end", "HPKE", "AES-256-GCM", "HMAC-SHA256", `${RETENTION.databaseHistoryDays} days`, "crypto-shredding", "Support viewed"]) {
      assert.ok(text.includes(fact), `the Security page states "${fact}"`);
    }
    for (const p of SUB_PROCESSORS) assert.ok(text.includes(p.name), `sub-processor ${p.name} is listed`);
    assert.ok((await page.locator("section[aria-labelledby=red-flags] li").count()) >= 8, "a red-flags checklist");
    await checkPage(page, "security");

    await page.getByRole("contentinfo").getByRole("link", { name: "Privacy policy" }).click();
    await page.getByRole("heading", { level: 1, name: "Privacy policy" }).waitFor();
    assert.ok((await page.locator("main").innerText()).includes(TERMS_VERSION));
    await checkPage(page, "privacy");

    await page.getByRole("contentinfo").getByRole("link", { name: "Terms" }).click();
    await page.getByRole("heading", { level: 1, name: "Terms of use" }).waitFor();
    assert.equal(await page.getByTestId("terms-version").textContent(), TERMS_VERSION);
    await checkPage(page, "terms");

    await page.goto("/sign-in");
    await page.getByRole("heading", { name: "Sign in as a local user" }).waitFor();
    await checkPage(page, "sign-in");

    await page.goto("/no-such-page");
    await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
    await checkPage(page, "not-found");

    assert.deepEqual(thirdParty(requests), [], "no request left for a third party");
    assertNoProblems(b.problems);
  });

  test("the built landing page has no inline script and only same-origin scripts", async () => {
    const html = await (await fetch(BASE_URL)).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 1);
    for (const [, attrs, body] of scripts) {
      assert.equal(body.trim(), "", "no inline script");
      const src = /src="([^"]+)"/.exec(attrs)?.[1] ?? "";
      assert.match(src, /^\/assets\//, `script ${src} is one of ours`);
    }
  });
});

describe("signed-in pages (happy)", () => {
  test("a new account sees clear empty states on every page, all accessible", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    const requests = recordRequests(b.page);
    const { page } = b;
    await freshAccount(page, "carol");

    const nav = page.getByRole("navigation", { name: "Your account" });
    await nav.getByRole("link", { name: "Pictures" }).click();
    await page.getByRole("heading", { level: 2, name: "No pictures yet" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Make your first picture" }).getAttribute("href"), "/app/create");
    await checkPage(page, "gallery-empty");

    await nav.getByRole("link", { name: "Credits" }).click();
    await page.getByTestId("balance").waitFor();
    await page.getByRole("button", { name: /^Buy 10 credits/ }).waitFor();
    await page.getByTestId("ledger-entry").first().waitFor();
    assert.equal(await page.getByTestId("ledger-entry").first().getAttribute("data-reason"), "free_grant", "the welcome credits are the only history");
    await checkPage(page, "credits");

    await nav.getByRole("link", { name: "API keys" }).click();
    await page.getByText("You have no API keys.").waitFor();
    await checkPage(page, "api-keys-empty");

    await nav.getByRole("link", { name: "Activity" }).click();
    // Entries are grouped into events; the raw entries (hidden until expanded) still carry their actions.
    await page.getByTestId("activity-event").first().waitFor();
    const actions = await page.getByTestId("activity-entry").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
    assert.ok(actions.includes("account.created"), `a new account's log starts with its creation: ${actions.join(", ")}`);
    await checkPage(page, "activity");

    await nav.getByRole("link", { name: "Settings" }).click();
    await page.getByTestId("no-consent").waitFor();
    await page.getByRole("radio", { name: "Delete them as soon as the picture is ready" }).waitFor();
    await checkPage(page, "settings");

    assert.deepEqual(thirdParty(requests), []);
    assertNoProblems(b.problems);
  });

  test("keyboard only: skip link first, visible focus, dialogs open, trap and close with the keyboard", async (t) => {
    const b = await freshAccountBrowser(t, "carol");
    const { page, api } = b;
    // A key to revoke, made through the API so this test is about the keyboard.
    await json(await api("/v1/api-keys", { method: "POST", json: { name: "Keyboard test", scopes: ["account:read"] } }), 201);
    await page.goto("/app/api-keys");
    await page.getByTestId("api-key").first().waitFor();

    await page.keyboard.press("Tab");
    const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
    assert.equal(first, "Skip to content");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement ?? document.body).outlineStyle);
    assert.notEqual(outline, "none", "focus is visible");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "main");

    // Tab to the Revoke button and open the dialog with the keyboard.
    const revoke = page.getByRole("button", { name: "Revoke the key “Keyboard test”" });
    for (let i = 0; i < 40 && !(await revoke.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
    assert.ok(await revoke.evaluate((el) => el === document.activeElement), "the Revoke button is reachable with Tab");
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Revoke “Keyboard test”?" });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel", "the safe choice has focus");
    await checkPage(page, "api-keys-revoke-dialog");
    // The page behind the modal dialog is inert: Tab cycles through the dialog
    // (and, past its end, the browser's own UI, where the document has no focus), never the page.
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      const where = await dialog.evaluate((d) => (d.contains(document.activeElement) ? "dialog" : document.activeElement === document.body || !document.activeElement ? "outside-document" : "page"));
      assert.notEqual(where, "page", "focus never reaches the page behind the dialog");
    }
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assert.ok(await revoke.evaluate((el) => el === document.activeElement), "focus returns to the button that opened it");
    assert.equal(await page.getByTestId("api-key-state").first().textContent(), "Active", "Escape changed nothing");
    assertNoProblems(b.problems);
  });
});

describe("account features (happy)", () => {
  test("API keys: create with scopes and expiry, the secret shown once, it works, then revoke it and it stops working", async (t) => {
    const b = await freshAccountBrowser(t, "carol");
    const { page } = b;
    await page.goto("/app/api-keys");

    // Validation first: nothing is sent without a name.
    await page.getByRole("button", { name: "Create key" }).click();
    assert.equal(await page.getByLabel("Name").getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "key-name", "focus goes to the field to fix");

    await page.getByLabel("Name").fill("Photo booth");
    const checkedByDefault = await page.locator('input[type="checkbox"][id^="scope-"]:checked').evaluateAll((els) => els.map((e) => e.id));
    assert.ok(checkedByDefault.length > 0 && checkedByDefault.every((id) => id.endsWith(":read")), `read-only by default: ${checkedByDefault}`);
    await page.getByRole("checkbox", { name: /account:read/ }).check();
    await page.getByRole("checkbox", { name: /generations:write/ }).uncheck();
    await page.getByLabel("Expires after").selectOption("30");
    await page.getByRole("button", { name: "Create key" }).click();
    const secretBox = page.getByTestId("new-key");
    await secretBox.waitFor();
    const secret = await page.getByLabel("API key", { exact: true }).inputValue();
    assert.match(secret, /^bp_/);
    assert.ok((await secretBox.innerText()).includes("only time it is shown"));
    await checkPage(page, "api-keys-secret");
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByRole("status").filter({ hasText: /Copied|selected/ }).waitFor();

    // The key acts for this user, within its scopes.
    const withKey = apiAs(secret);
    assert.equal((await withKey("/v1/me")).status, 200);
    assert.equal((await withKey("/v1/generations", { method: "POST", json: {} })).status, 403, "no generations:write");

    await page.getByRole("button", { name: "I have stored it, hide the key" }).click();
    await secretBox.waitFor({ state: "hidden" });
    await page.reload();
    const row = page.getByTestId("api-key").filter({ hasText: "Photo booth" });
    await row.waitFor();
    const shown = await row.innerText();
    assert.ok(!shown.includes(secret), "the list never shows the secret again");
    const prefix = (await row.locator("code").first().textContent())?.replace("…", "") ?? "";
    assert.ok(prefix.length >= 6 && secret.startsWith(prefix), `the prefix ${prefix} identifies the key`);
    assert.match(shown, /account:read/);
    assert.doesNotMatch(shown, /generations:write/);
    // Used once above: "Never" (last used) is gone; it expires in 30 days, so no other "Never" either.
    assert.doesNotMatch(shown, /Never/);

    await row.getByRole("button", { name: /^Revoke/ }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    await eventually(async () => (await row.getByTestId("api-key-state").textContent())?.startsWith("Revoked"), { what: "revoked state" });
    assert.equal((await withKey("/v1/me")).status, 401, "a revoked key is refused");
    assertNoProblems(b.problems);
  });

  test("settings: retention choice, support access window and consent withdrawal are saved and shown", async (t) => {
    const b = await launchBrowser({ viewport: VIEWPORTS.phone });
    t.after(() => b.close());
    const { page } = b;
    const { api } = await freshAccount(page, "carol");
    await json(await api("/v1/me/consent", { method: "POST", json: { termsVersion: TERMS_VERSION, peopleConsent: true } }));
    await page.goto("/app/account");

    // Consent on record, with its version.
    assert.equal(await page.getByTestId("consent-version").textContent(), TERMS_VERSION);

    // Keep parent photos 7 days.
    await page.getByRole("radio", { name: "Keep them for 7 days" }).check();
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    assert.equal((await json(await api("/v1/me/settings"))).keepPhotosDays, 7);
    await page.reload();
    assert.ok(await page.getByRole("radio", { name: "Keep them for 7 days" }).isChecked());

    // Support access for 24 hours, then closed again.
    await page.getByLabel("Let support see them for").selectOption("24");
    await page.getByRole("button", { name: "Open access" }).click();
    await page.getByTestId("support-access-state").filter({ hasText: "Support can see" }).waitFor();
    const until = (await json(await api("/v1/me"))).supportAccessUntil;
    assert.ok(until && Date.parse(until) > Date.now() + 23 * 3_600_000, `granted for a day: ${until}`);
    await checkPage(page, "settings-support-open");
    await page.getByRole("button", { name: "Close access now" }).click();
    await page.getByTestId("support-access-state").filter({ hasText: "Support cannot see" }).waitFor();
    assert.equal((await json(await api("/v1/me"))).supportAccessUntil, null);

    // Withdraw consent: processing stops and deletion is offered.
    await page.getByRole("button", { name: "Withdraw consent" }).click();
    await page.getByRole("dialog", { name: "Withdraw your consent?" }).getByRole("button", { name: "Withdraw consent" }).click();
    await page.getByTestId("no-consent").waitFor();
    await page.getByRole("link", { name: "Delete your account and everything in it" }).waitFor();
    assert.equal((await json(await api("/v1/me/consent"))).consent, null);
    const refused = await api("/v1/photos", { method: "POST", body: new Uint8Array(8) });
    assert.equal((await json(refused, 403)).code, "consent_required", "uploads are refused without consent");

    const log = (await json(await api("/v1/account/audit?limit=50"))).items.map((e) => e.action);
    for (const action of ["settings.changed", "support.grant_changed", "consent.withdrawn"]) assert.ok(log.includes(action), `${action} is in the activity log`);
    assertNoProblems(b.problems);
  });

  test("credits: buy a pack on the (local) payment page, come back and see the confirmed purchase and new balance", async (t) => {
    const b = await freshAccountBrowser(t, "carol");
    const { page, api } = b;
    const before = (await json(await api("/v1/billing/balance"))).credits;
    await page.goto("/app/billing");
    await page.getByTestId("balance").filter({ hasText: String(before) }).waitFor();

    await page.getByRole("button", { name: /^Buy 10 credits/ }).click();
    // The hosted checkout (the local Creem fake, on its own origin).
    await page.getByRole("button", { name: /^Pay / }).waitFor();
    assert.notEqual(new URL(page.url()).origin, new URL(BASE_URL).origin);
    await page.getByRole("button", { name: /^Pay / }).click();

    await page.waitForURL((url) => url.pathname === "/app/billing" && url.searchParams.get("checkout") === "success");
    await page.getByTestId("checkout-confirmed").waitFor();
    assert.match(await page.getByTestId("checkout-confirmed").innerText(), /10 credits added/);
    await page.getByTestId("balance").filter({ hasText: String(before + 10) }).waitFor();
    assert.equal(await page.getByTestId("ledger-entry").first().getAttribute("data-reason"), "purchase");
    await checkPage(page, "credits-after-purchase");
    assert.equal((await json(await api("/v1/billing/balance"))).credits, before + 10);
    assertNoProblems(b.problems);
  });
});

describe("activity (security)", () => {
  test("support staff's access shows in the user's activity as 'Support viewed … because …', inside a support session", async (t) => {
    const staff = await launchBrowser();
    const user = await launchBrowser({ viewport: VIEWPORTS.phone });
    t.after(() => Promise.all([staff.close(), user.close()]));
    // Local carol is staff (ADMIN_USER_IDS in wrangler.toml, development); bob is an ordinary user.
    await signInAsLocalUser(staff.page, "carol");
    const asStaff = apiAs(await sessionToken(staff.page));
    const { api } = await freshAccount(user.page, "bob");
    const bobId = (await json(await api("/v1/me"))).id;
    const reason = "Ticket 4411: user reports a generation stuck in queued";
    // Account reads need a support session the operator opened (decision 0019).
    await json(await asStaff("/v1/admin/support-sessions", { method: "POST", json: { userId: bobId, reason, ticket: "T-4411" } }), 201);
    await json(await asStaff(`/v1/support/users/${bobId}`, { headers: { "x-support-reason": reason } }));

    await user.page.goto("/app/activity");
    const support = user.page.locator(".activity-support");
    await support.first().waitFor();
    const text = await support.allInnerTexts();
    assert.ok(text.some((e) => e.includes(`Support viewed your account summary because: ${reason}`)), text.join("\n"));
    assert.ok(text.some((e) => e.includes("support session opened for 30 minutes (ticket T-4411)")), "the session itself is shown too");
    await checkPage(user.page, "activity-support");
    assertNoProblems(user.problems);
  });
});

describe("signed-in pages (error)", () => {
  test("a gallery id that is not yours, or not an id at all, shows 'not found' and nothing else", async (t) => {
    const b = await freshAccountBrowser(t, "carol");
    const { page } = b;
    for (const id of ["gen_00000000000000000000000000000000", "not-an-id"]) {
      await page.goto(`/app/gallery/${id}`);
      await page.getByRole("heading", { level: 1, name: "Picture not found" }).waitFor();
    }
    // The 404 for the well-formed id is expected; nothing else went wrong.
    assertNoProblems(b.problems.filter((p) => !/404/.test(p)));
  });
});
