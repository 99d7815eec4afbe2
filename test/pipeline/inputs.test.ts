/**
 * Single-use input links for a model that only takes URLs (issue 4 §2): the
 * adapter sends links instead of data URIs (never Fal storage), and a link
 * serves one parent photo once, within minutes, only while its generation is
 * in flight; every other use is the same 404 with the reason in the security log.
 */
import { SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { securityLog } from "../../worker/db/schema";
import { createFalProvider } from "../../worker/providers/fal";
import { pipelineStorage } from "../../worker/services/pipeline-storage";
import { INPUT_LINK_TTL_SECONDS, issueInputLink, redeemInputLink } from "../../worker/services/generation-inputs";
import { failGeneration, submitGeneration } from "../../worker/services/generation-pipeline";
import { getObject } from "../../worker/services/storage";
import { expectProblem, services } from "../helpers";
import { JWKS_URL, MODEL, type FakeFal } from "./fake-fal";
import { beforePipelineTests, consentingUser, createDriven, drivenServices, parentsFor, row, type Parents } from "./fixtures";

let fal: FakeFal;
let alice = "";
let parents: Parents;

beforePipelineTests("alice", 50, "test-topup-inputs", (setup) => ({ fal, userId: alice, parents } = setup));

const fetchLink = (url: string) => {
  const u = new URL(url);
  return SELF.fetch(`http://api.test${u.pathname}`);
};

async function refusals(): Promise<string[]> {
  return (await services().db.select().from(securityLog).where(eq(securityLog.kind, "link_refused")).all()).map((r) => String(JSON.parse(r.detail ?? "{}").reason));
}

describe("happy: a URL-only model gets single-use links", () => {
  it("submits links, never data URIs, and each link serves the parent photo exactly once", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    const provider = createFalProvider({ credentials: "id:secret", model: MODEL, queueUrl: "https://queue.fal.run", jwksUrl: JWKS_URL, webhookUrl: "http://api.test/v1/webhooks/fal", inputs: "link" });
    await submitGeneration({ ...s, pipeline: { provider, storage: pipelineStorage } }, gen.id);
    expect((await row(gen.id)).status).toBe("submitted");

    const sent = fal.last;
    const body = JSON.stringify(sent.input);
    expect(body).not.toContain("data:");
    const motherUrl = String((sent.input["mother_image_urls"] as string[])[0]);
    expect(motherUrl).toMatch(/^http:\/\/api\.test\/v1\/generation-inputs\/[A-Za-z0-9._-]+$/);

    // The model fetches it: the decrypted photo, not cacheable, once.
    const first = await fetchLink(motherUrl);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("private, no-store");
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    const expected = await getObject(services(), alice, parents.motherPhotoId);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(expected?.bytes);
    await expectProblem(await fetchLink(motherUrl), 404, "not_found");
    expect(await refusals()).toContain("generation-input:used");
  });
});

describe("security: input links refuse every other use with the same 404", () => {
  it("refuses tampered, foreign-key, expired, too-far and finished links", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    const link = await issueInputLink(s, { generationId: gen.id, userId: alice, objectId: parents.fatherPhotoId });
    const token = new URL(link).pathname.split("/").pop() ?? "";
    const [kid, payload, sig] = token.split(".");

    // Altered claims (another photo id) with the old signature.
    const forged = JSON.parse(atob((payload ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    forged["o"] = parents.motherPhotoId;
    const forgedPayload = btoa(JSON.stringify(forged)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    await expectProblem(await SELF.fetch(`http://api.test/v1/generation-inputs/${kid}.${forgedPayload}.${sig}`), 404, "not_found");
    await expectProblem(await SELF.fetch(`http://api.test/v1/generation-inputs/nope.${payload}.${sig}`), 404, "not_found");
    await expectProblem(await SELF.fetch("http://api.test/v1/generation-inputs/garbage"), 404, "not_found");

    const later = services({ now: () => Date.now() + (INPUT_LINK_TTL_SECONDS + 5) * 1000 });
    expect(await redeemInputLink(later, token)).toMatchObject({ ok: false, reason: "expired" });
    const fromTheFuture = await issueInputLink(services({ now: () => Date.now() + 3_600_000 }), { generationId: gen.id, userId: alice, objectId: parents.fatherPhotoId });
    expect(await redeemInputLink(services(), new URL(fromTheFuture).pathname.split("/").pop() ?? "")).toMatchObject({ ok: false, reason: "exp-too-far" });

    // Once the generation has ended nothing is served, even with an unused link.
    await failGeneration({ ...s, pipeline: { provider: createFalProvider({ credentials: "x:y", model: MODEL, queueUrl: "https://queue.fal.run", jwksUrl: JWKS_URL, webhookUrl: "http://api.test/v1/webhooks/fal" }), storage: pipelineStorage } }, gen, "model_error");
    await expectProblem(await fetchLink(link), 404, "not_found");
    const reasons = await refusals();
    for (const r of ["bad-signature", "unknown-kid", "malformed", "not-in-flight"]) expect(reasons).toContain(`generation-input:${r}`);
  });

  it("never serves a photo that is not a parent of that generation", async () => {
    const { s } = drivenServices();
    const gen = await createDriven(s, alice, parents);
    const bob = await consentingUser("bob");
    const bobs = await parentsFor(bob);
    const link = await issueInputLink(s, { generationId: gen.id, userId: alice, objectId: bobs.motherPhotoId });
    await expectProblem(await fetchLink(link), 404, "not_found");
    const other = await issueInputLink(s, { generationId: gen.id, userId: bob, objectId: bobs.motherPhotoId });
    await expectProblem(await fetchLink(other), 404, "not_found");
  });
});
