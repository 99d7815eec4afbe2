// "Check my activity log" on the Activity page: the browser verifies the hash
// chain and every signed checkpoint itself (WebCrypto Ed25519, the shared
// worker/lib/audit-verify.ts) and says in plain words whether the log is
// intact or where it first breaks. Tampering is simulated the way a server
// that rewrote its database would answer: by altering the API's answers.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertNoProblems, launchBrowser, VIEWPORTS } from "./helpers.mjs";
import { checkPage, freshAccount, json } from "./journey-helpers.mjs";

async function runCheck(page) {
  await page.goto("/app/activity");
  await page.getByTestId("activity-event").first().waitFor();
  await page.getByRole("button", { name: "Check my activity log" }).click();
  const result = page.getByTestId("check-log-result");
  await result.waitFor();
  return { ok: await result.getAttribute("data-ok"), text: await result.innerText() };
}

describe("activity log check (happy)", () => {
  test("an untouched log is reported intact, with its newest signed checkpoint; the page stays accessible on a phone", async (t) => {
    const b = await launchBrowser({ viewport: VIEWPORTS.phone });
    t.after(() => b.close());
    const { api } = await freshAccount(b.page, "alice");
    // An export makes a checkpoint (the cron would make one within a day).
    const res = await api("/v1/account/exports", { method: "POST" });
    assert.equal(res.status, 202);
    const created = await res.json();
    for (let i = 0; i < 200; i++) {
      const view = await json(await api(`/v1/account/exports/${created.id}`));
      if (view.status === "ready") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { ok, text } = await runCheck(b.page);
    assert.equal(ok, "true", text);
    assert.match(text, /^Intact: all \d+ entries link up and all 1 signed checkpoints are valid\. BabyPic's newest signed checkpoint covers entries 1 to \d+/);
    await checkPage(b.page, "activity-check");
    assertNoProblems(b.problems);
  });
});

describe("activity log check (security)", () => {
  test("an entry changed in the answer: 'Broken from entry …', naming the entry", async (t) => {
    const b = await launchBrowser({ viewport: VIEWPORTS.phone });
    t.after(() => b.close());
    await freshAccount(b.page, "bob");
    let target = null;
    await b.page.route(/\/v1\/account\/audit\?/, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      const entry = body.items.find((e) => e.seq === 1);
      if (entry) {
        entry.action = "photo.deleted";
        target = entry.seq;
      }
      await route.fulfill({ response: res, json: body });
    });
    const { ok, text } = await runCheck(b.page);
    assert.equal(ok, "false");
    assert.equal(target, 1);
    assert.match(text, /^Broken from entry 1: this entry was changed after it was written/);
  });

  test("a checkpoint not signed by BabyPic's key: 'Broken from entry …', naming the checkpoint's entry", async (t) => {
    const b = await launchBrowser({ viewport: VIEWPORTS.phone });
    t.after(() => b.close());
    const { api } = await freshAccount(b.page, "alice");
    assert.equal((await api("/v1/account/exports", { method: "POST" })).status, 202);
    await b.page.route(/\/v1\/account\/audit\/checkpoints/, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      for (const c of body.items) c.sig = c.sig.slice(0, -4) + (c.sig.endsWith("AAAA") ? "BBBB" : "AAAA");
      await route.fulfill({ response: res, json: body });
    });
    for (let i = 0; i < 200; i++) {
      const list = await json(await api("/v1/account/audit/checkpoints"));
      if (list.items.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { ok, text } = await runCheck(b.page);
    assert.equal(ok, "false");
    assert.match(text, /Broken from entry \d+: a checkpoint's signature is not valid/);
  });
});
