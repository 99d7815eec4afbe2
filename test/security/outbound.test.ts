/**
 * "We do not sell or share your data": the Worker sends data only to the
 * services the Privacy page lists (worker/lib/privacy-facts.ts
 * SUB_PROCESSORS). Every outbound request the Worker makes while a person
 * uploads, generates, pays, exports and deletes their account is recorded
 * (msw sees every fetch of the isolate, handled or not), and each host must
 * belong to a listed service. A new integration that calls anyone else fails
 * here until the list, and so the pages, name it.
 */
import { http, HttpResponse } from "msw";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUB_PROCESSORS } from "../../worker/lib/privacy-facts";
import { api, json } from "../helpers";
import { upload } from "../intake/helpers";
import { network } from "../network";
import { FakeFal, makeJpeg } from "../pipeline/fake-fal";
import { consentingUser, createBody, postGeneration, waitFor } from "../pipeline/fixtures";

/** Which listed service each host belongs to (production hosts and the test doubles of them). */
const HOST_OWNER: Record<string, string> = {
  "queue.fal.run": "fal.ai",
  "api.fal.ai": "fal.ai",
  // The content classifier each output passes before it is stored (decision 0009).
  "fal.run": "fal.ai",
  "rest.alpha.fal.ai": "fal.ai",
  "v3.fal.media": "fal.ai",
  "test-api.creem.io": "Creem",
  "api.creem.io": "Creem",
  "api.clerk.com": "Clerk",
  "api.resend.com": "Resend (mail provider)",
  // The SSRF guard resolves integrators' webhook hosts here (worker/services/webhooks/ssrf.ts); the endpoints themselves are recipients the user chose.
  "cloudflare-dns.com": "Cloudflare",
};

const contacted = new Set<string>();
const record = ({ request }: { request: Request }) => {
  contacted.add(new URL(request.url).host);
};

let fal: FakeFal;

beforeAll(async () => {
  fal = await new FakeFal().init();
  network.events.on("request:start", record);
});
afterAll(() => {
  network.events.removeListener("request:start", record);
});

describe("outbound requests (security)", () => {
  it("the Worker sends data only to the listed services' hosts, across upload, generation, payment and deletion", async () => {
    fal.use();
    network.use(
      http.post("https://test-api.creem.io/v1/checkouts", () =>
        HttpResponse.json({
          id: "ch_outbound",
          mode: "test",
          object: "checkout",
          status: "pending",
          product: "prod_small",
          units: 1,
          checkout_url: "https://checkout.creem.io/ch_outbound",
        }),
      ),
    );
    await consentingUser("outbound");

    const mother = (await json<{ id: string }>((await upload("outbound", makeJpeg(400, 300, 1))).res)).id;
    const father = (await json<{ id: string }>((await upload("outbound", makeJpeg(300, 400, 2))).res)).id;
    const posted = await postGeneration("outbound", createBody({ motherPhotoId: mother, fatherPhotoId: father }));
    expect(posted.status).toBe(202);
    const created = await json<{ id: string }>(posted);
    const submitted = await waitFor(created.id, (r) => r.status === "submitted");
    fal.complete(submitted.providerRequestId ?? "");
    expect((await fal.webhook(submitted.providerRequestId ?? "")).status).toBe(200);
    expect((await waitFor(created.id, (r) => r.status === "completed" || r.status === "failed")).status).toBe("completed");

    const checkout = await api("/v1/billing/checkout", {
      method: "POST",
      user: "outbound",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId: "prod_small" }),
    });
    expect(checkout.ok).toBe(true);

    const exp = await json<{ id: string; status: string }>(await api("/v1/account/exports", { method: "POST", user: "outbound" }));
    for (let i = 0; i < 300; i++) {
      const view = await json<{ status: string }>(await api(`/v1/account/exports/${exp.id}`, { user: "outbound" }));
      if (view.status === "ready" || view.status === "failed") break;
      await new Promise((r) => setTimeout(r, 50));
    }

    const deleted = await api("/v1/account", {
      method: "DELETE",
      user: "outbound",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ confirm: "DELETE" }),
    });
    expect(deleted.ok).toBe(true);

    // The flow really reached the model provider and the payment provider.
    expect([...contacted].map((h) => HOST_OWNER[h])).toEqual(expect.arrayContaining(["fal.ai", "Creem"]));
    const listed = new Set(SUB_PROCESSORS.map((p) => p.name));
    const strangers = [...contacted].filter((h) => !listed.has(HOST_OWNER[h] ?? ""));
    expect(strangers).toEqual([]);
  });
});
