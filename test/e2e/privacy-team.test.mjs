/* global document -- only inside page.waitForFunction() callbacks, which run in the browser */
// The privacy team's public pages and console (issue 16): who we are on the
// Privacy, Security and disclosure pages, security.txt on the SPA origin,
// the contact form, and the operator console for carol (admin) versus alice.
// Accessible (axe) at phone (360x740) and desktop sizes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { API_URL, assertAccessible, assertNoProblems, BASE_URL, launchBrowser, screenshots, sessionToken, signInAsLocalUser, VIEWPORTS } from "./helpers.mjs";
import { apiAs, json, recordRequests, thirdParty } from "./journey-helpers.mjs";

const SIZES = { phone: { width: 360, height: 740 }, desktop: VIEWPORTS.desktop };

async function accessibleAtBothSizes(page, name) {
  for (const size of Object.values(SIZES)) {
    await page.setViewportSize(size);
    await assertAccessible(page);
  }
  await screenshots(page, name);
}

const facts = await (await fetch(`${API_URL}/v1/privacy`)).json();

describe("who we are and the contact form", () => {
  test("Privacy, Security and disclosure pages name the configured controller and contacts; security.txt is served on the SPA origin", async (t) => {
    const b = await launchBrowser({ viewport: SIZES.phone });
    t.after(() => b.close());
    const { page } = b;
    const requests = recordRequests(page);
    for (const path of ["/privacy", "/security"]) {
      await page.goto(path);
      const who = page.getByTestId("who-we-are");
      await who.getByTestId("controller-name").waitFor();
      const text = await who.innerText();
      for (const v of [facts.controller.name, facts.controller.address, facts.dpo.name, facts.dpo.email, facts.privacyContact.email, facts.securityContact.email]) {
        assert.ok(text.includes(v), `${path} shows ${v}`);
      }
      await accessibleAtBothSizes(page, `who-we-are${path.replace("/", "-")}`);
    }
    await page.goto("/security/disclosure");
    assert.equal(await page.getByTestId("security-email").textContent(), facts.securityContact.email);
    await accessibleAtBothSizes(page, "disclosure");

    const txt = await fetch(`${BASE_URL}/.well-known/security.txt`);
    assert.equal(txt.status, 200);
    const body = await txt.text();
    assert.match(body, new RegExp(`^Contact: mailto:${facts.securityContact.email.replace(/[.+]/g, "\\$&")}$`, "m"));
    assert.match(body, /^Expires: \d{4}-\d\d-\d\dT/m);
    assert.match(body, /^Policy: .*\/security\/disclosure$/m);
    assert.deepEqual(thirdParty(requests), []);
    assertNoProblems(b.problems);
  });

  test("the contact form explains bad input per field, then sends a request and shows its reference and deadline", async (t) => {
    const b = await launchBrowser({ viewport: SIZES.phone });
    t.after(() => b.close());
    const { page } = b;
    await page.goto("/");
    await page.getByRole("contentinfo").getByRole("link", { name: "Contact" }).click();
    await page.getByRole("heading", { level: 1, name: "Contact the privacy team" }).waitFor();
    await accessibleAtBothSizes(page, "contact");

    await page.getByLabel("I am pictured without my consent").check();
    await page.getByLabel("Which picture? (its link or id)").waitFor();
    await page.getByRole("button", { name: "Send request" }).click();
    await page.getByText("Your request was not sent").waitFor();
    assert.equal(await page.getByLabel("Your email address").getAttribute("aria-invalid"), "true");
    await accessibleAtBothSizes(page, "contact-errors");

    await page.getByLabel("See my data").check();
    await page.getByLabel("Your email address").fill("visitor@example.com");
    await page.getByLabel("Your message").fill("Please send me a copy of everything you hold about me.");
    await page.getByRole("button", { name: "Send request" }).click();
    const received = page.getByTestId("request-received");
    await received.waitFor();
    assert.match(await received.innerText(), /prq_[0-9a-f]{32}.*at the latest by/s);
    await accessibleAtBothSizes(page, "contact-received");
    // The client-side problems list includes the expected 400 of the first attempt only as a 4xx, never a 5xx.
    assertNoProblems(b.problems.filter((p) => !p.startsWith("console: Failed to load resource: the server responded with a status of 400")));
  });
});

describe("operator console", () => {
  test("alice (not an admin) gets the not-found view at /admin", async (t) => {
    const b = await launchBrowser({ viewport: SIZES.desktop });
    t.after(() => b.close());
    await signInAsLocalUser(b.page, "alice");
    await b.page.goto("/admin");
    await b.page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
    assert.equal(await b.page.getByText("Privacy inbox").count(), 0);
  });

  test("carol sees the inbox with the deadline counting down, moves a request on, and the operator log records it", async (t) => {
    const sent = await fetch(`${API_URL}/v1/privacy-requests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "deletion", email: "erase.me@example.com", message: "Please delete everything you hold about me." }),
    });
    assert.equal(sent.status, 201);
    const { id } = await sent.json();

    const b = await launchBrowser({ viewport: SIZES.phone });
    t.after(() => b.close());
    const { page } = b;
    await signInAsLocalUser(page, "carol");
    await page.goto("/admin");
    await page.getByRole("heading", { level: 1, name: "Operator console" }).waitFor();
    const card = page.locator(`[data-testid=privacy-request][data-id="${id}"]`);
    await card.waitFor();
    assert.match(await card.getByTestId("request-deadline").innerText(), /(29|30|31|27|28) days \d+ hours? left/);
    assert.ok((await card.innerText()).includes("erase.me@example.com"));
    await accessibleAtBothSizes(page, "admin-console");

    await card.getByLabel("New status").selectOption("completed");
    await card.getByLabel("Note (what you did and why)").fill("No account with this address; told the requester.");
    await card.getByRole("button", { name: "Update" }).click();
    await page.waitForFunction((rid) => document.querySelector(`[data-id="${rid}"] [data-testid=request-status]`)?.textContent === "completed", id);
    assert.ok((await card.innerText()).includes("erased (request closed)"));
    assert.ok(!(await card.innerText()).includes("erase.me@example.com"));
    await page.getByTestId("operator-log-entry").filter({ hasText: id }).first().waitFor();
    await accessibleAtBothSizes(page, "admin-console-after");
    assertNoProblems(b.problems);
  });
});

describe("public reports", () => {
  test("the transparency report counts the recorded demands, and a published post-mortem is readable at /incidents/<slug>", async (t) => {
    const b = await launchBrowser({ viewport: SIZES.phone });
    t.after(() => b.close());
    const { page } = b;
    await signInAsLocalUser(page, "carol");
    const api = apiAs(await sessionToken(page));
    const before = await (await fetch(`${API_URL}/v1/transparency`)).json();
    const thisYear = new Date().getUTCFullYear();
    const countOf = (report) => report.years.find((y) => y.year === thisYear)?.byType.court_order ?? 0;
    await json(await api("/v1/admin/legal-demands", { method: "POST", json: { type: "court_order", authority: "District Court", legalBasis: "Art. 6 test", receivedAt: `${thisYear}-01-15` } }), 201);

    await page.goto("/transparency");
    const year = page.locator(`section[aria-labelledby="year-${thisYear}"]`);
    await year.waitFor();
    const row = year.getByRole("row", { name: /Court orders/ });
    assert.equal((await row.getByRole("cell").last().innerText()).trim(), String(countOf(before) + 1));
    await accessibleAtBothSizes(page, "transparency");

    const now = Date.now();
    const inc = await json(
      await api("/v1/admin/incidents", {
        method: "POST",
        json: {
          title: "Browser test incident",
          summary: "A test incident declared by the browser suite.",
          windowStart: new Date(now - 3_600_000).toISOString(),
          windowEnd: new Date(now).toISOString(),
          dataKinds: ["generated images"],
          finder: { actions: ["link.used"] },
        },
      }),
      201,
    );
    await page.goto("/admin");
    const card = page.locator(`[data-testid=incident][data-id="${inc.id}"]`);
    assert.match(await card.getByTestId("incident-clock").innerText(), /(2 days 23 hours|3 days 0 hours) left/);
    await accessibleAtBothSizes(page, "admin-incidents");
    await json(await api(`/v1/admin/incidents/${inc.id}/publish`, { method: "POST", json: { postMortem: "What happened: nothing real.\n\nWhat we changed: this is a test." } }));
    await page.goto(`/incidents/${inc.slug}`);
    await page.getByRole("heading", { level: 1, name: "Incident: Browser test incident" }).waitFor();
    assert.ok((await page.locator("main").innerText()).includes("What we changed: this is a test."));
    await accessibleAtBothSizes(page, "incident-page");
    assertNoProblems(b.problems);
  });
});
