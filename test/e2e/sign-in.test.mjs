/* global sessionStorage -- only inside page.evaluate() callbacks, which run in the browser */
// The first browser journey: a local user signs in and sees their account.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { API_URL, assertAccessible, assertNoProblems, launchBrowser, screenshots, sessionToken, signInAsLocalUser } from "./helpers.mjs";

describe("sign in (happy)", () => {
  test("a local user signs in and sees the dashboard with their credits", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());

    await b.page.goto("/");
    await b.page.getByRole("heading", { level: 2, name: "What happens to your photos" }).waitFor();
    await assertAccessible(b.page);
    await screenshots(b.page, "landing");

    await signInAsLocalUser(b.page, "alice");
    const credits = b.page.getByTestId("credits");
    await credits.waitFor();
    const shown = { credits: (await credits.textContent())?.trim(), id: (await b.page.getByTestId("account-id").textContent())?.trim() };
    assert.match(shown.credits ?? "", /^\d+$/, "credits are a number");
    assert.match(shown.id ?? "", /^usr_/, "the internal account id is shown");

    // The page shows what the API says about this user.
    const res = await fetch(`${API_URL}/v1/me`, { headers: { authorization: `Bearer ${await sessionToken(b.page)}` } });
    assert.equal(res.status, 200);
    const me = await res.json();
    assert.equal(shown.id, me.id);
    assert.equal(Number(shown.credits), me.credits);

    await assertAccessible(b.page);
    await screenshots(b.page, "dashboard");
    assertNoProblems(b.problems);
  });

  test("a session close to expiry is renewed before it is used", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await signInAsLocalUser(b.page, "carol");
    // Pretend the stored session expires in one minute (inside the refresh margin).
    const soon = await b.page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem("babypic.localSession") ?? "{}");
      s.expiresAt = new Date(Date.now() + 60_000).toISOString();
      sessionStorage.setItem("babypic.localSession", JSON.stringify(s));
      return s.expiresAt;
    });
    await b.page.reload();
    await b.page.getByTestId("credits").waitFor();
    const renewed = await b.page.evaluate(() => JSON.parse(sessionStorage.getItem("babypic.localSession") ?? "{}").expiresAt);
    assert.ok(Date.parse(renewed) > Date.parse(soon) + 30 * 60_000, `renewed session expires later (${soon} -> ${renewed})`);
    assertNoProblems(b.problems);
  });

  test("signing out ends the session and /app asks to sign in again", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await signInAsLocalUser(b.page, "bob");
    await b.page.getByRole("button", { name: "Sign out" }).click();
    await b.page.waitForURL((url) => url.pathname === "/sign-in");
    assert.equal(await b.page.evaluate(() => sessionStorage.getItem("babypic.localSession")), null);
    await b.page.goto("/app");
    await b.page.waitForURL((url) => url.pathname === "/sign-in");
    assertNoProblems(b.problems);
  });
});

describe("sign in (security)", () => {
  test("a session from before the account's deletion is signed out with a clear message, not given a new account", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    await signInAsLocalUser(b.page, "carol");
    const token = await sessionToken(b.page);
    // The account is deleted elsewhere (another tab, curl) while this tab keeps its session.
    const del = await fetch(`${API_URL}/v1/account`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ confirm: "DELETE" }),
    });
    assert.equal(del.status, 200);
    const again = await fetch(`${API_URL}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(again.status, 401);
    assert.equal((await again.json()).code, "account_deleted");

    await b.page.reload();
    await b.page.waitForURL((url) => url.pathname === "/sign-in");
    const notice = b.page.getByTestId("account-deleted-notice");
    await notice.waitFor();
    assert.match(await notice.innerText(), /account has been deleted/i);
    assert.equal(await b.page.evaluate(() => sessionStorage.getItem("babypic.localSession")), null, "signed out");
    await assertAccessible(b.page);
    await screenshots(b.page, "sign-in-account-deleted");
    // The message is shown once.
    await b.page.reload();
    await b.page.getByRole("heading", { name: "Sign in as a local user" }).waitFor();
    assert.equal(await b.page.getByTestId("account-deleted-notice").count(), 0);
  });


  test("two local users see two different accounts", async (t) => {
    const alice = await launchBrowser();
    const bob = await launchBrowser({ viewport: { width: 390, height: 844 } });
    t.after(() => Promise.all([alice.close(), bob.close()]));
    await Promise.all([signInAsLocalUser(alice.page, "alice"), signInAsLocalUser(bob.page, "bob")]);
    const [a, b] = await Promise.all([alice.page.getByTestId("account-id").textContent(), bob.page.getByTestId("account-id").textContent()]);
    assert.ok(a && b);
    assert.notEqual(a, b);
  });

  test("the SPA is served with the strict headers from _headers", async () => {
    const res = await fetch(process.env.BABYPIC_E2E_URL ?? "http://127.0.0.1:5173");
    assert.equal(res.status, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"]) {
      assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
    }
    // Only WebAssembly compilation is allowed beyond 'self' (the on-device face check, docs/decisions/0017); never eval or inline code.
    assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'/);
    assert.equal(res.headers.get("strict-transport-security"), "max-age=63072000; includeSubDomains; preload");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.match(res.headers.get("permissions-policy") ?? "", /camera=\(\).*microphone=\(\).*geolocation=\(\)/);
    assert.equal(res.headers.get("cross-origin-opener-policy"), "same-origin");
    assert.equal(res.headers.get("cross-origin-resource-policy"), "same-origin");
  });
});
