// Webhooks on the API page, in a real browser against the local app: add an
// endpoint (a receiver on 127.0.0.1, which only development allows), the
// secret shown once, a test event that the receiver verifies with svix,
// rotation, the delivery log, deletion; and a private address refused.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, test } from "node:test";
import { Webhook } from "svix";
import { checkPage, freshAccountBrowser } from "./journey-helpers.mjs";

function receiver() {
  const got = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, got, url: `http://127.0.0.1:${server.address().port}/hook` })));
}

describe("webhooks (happy)", () => {
  test("add an endpoint, see its secret once, send a verifiable test event, rotate, delete; a private address is refused", async (t) => {
    const r = await receiver();
    t.after(() => r.server.close());
    const b = await freshAccountBrowser(t, "carol");
    const { page } = b;
    await page.goto("/app/api-keys");
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();

    await page.getByLabel("HTTPS URL").fill("https://10.0.0.1/hook");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByRole("alert").filter({ hasText: /private|reserved/ }).waitFor();

    await page.getByLabel("HTTPS URL").fill(r.url);
    await page.getByRole("checkbox", { name: /export\.ready/ }).check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByTestId("new-webhook-secret").waitFor();
    const secret = await page.locator("#new-webhook-secret").inputValue();
    assert.match(secret, /^whsec_/);
    await checkPage(page, "webhooks-secret");
    await page.getByRole("button", { name: "I have stored it, hide the secret" }).click();

    const row = page.getByTestId("webhook-endpoint").first();
    await row.getByRole("button", { name: "Send test event" }).click();
    await row.getByTestId("webhook-test-result").filter({ hasText: "Test delivered" }).waitFor();
    assert.equal(r.got.length, 1);
    const event = new Webhook(secret).verify(r.got[0].body, r.got[0].headers);
    assert.equal(event.type, "webhook.test");

    await row.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByTestId("new-webhook-secret").waitFor();
    const next = await page.locator("#new-webhook-secret").inputValue();
    assert.notEqual(next, secret);
    await page.getByRole("button", { name: "I have stored it, hide the secret" }).click();
    await row.getByRole("button", { name: "Send test event" }).click();
    await new Promise((res) => setTimeout(res, 500));
    const second = r.got[1];
    assert.ok(second, "second delivery received");
    assert.doesNotThrow(() => new Webhook(secret).verify(second.body, second.headers), "the old secret still verifies during the overlap");
    assert.doesNotThrow(() => new Webhook(next).verify(second.body, second.headers));

    await row.getByRole("button", { name: "Recent deliveries" }).click();
    await row.getByText("No deliveries yet.").waitFor();
    await checkPage(page, "webhooks-list");

    await row.getByRole("button", { name: /Delete the endpoint/ }).click();
    await page.getByRole("button", { name: "Delete endpoint" }).click();
    await page.getByText("You have no webhook endpoints.").waitFor();
  });
});
