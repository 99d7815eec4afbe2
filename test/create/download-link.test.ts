/**
 * What the SPA's create flow needs from the API beyond the pipeline itself:
 * a signed attachment link for downloading one result image, the cost of a
 * generation on /v1/me, and the `preview` flag on a generation.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { putObject } from "../../worker/services/storage";
import { api, expectProblem, json, services, signIn } from "../helpers";
import { auditRows, insertGeneration } from "../access/fixtures";

const bytes = crypto.getRandomValues(new Uint8Array(3000));
let alice = "";
let generation = "";
let otherGeneration = "";
let output = "";

const linkPath = (gen: string, obj: string) => `/v1/generations/${gen}/outputs/${obj}/download-link`;
const ghost = (id: string) => id.slice(0, 4) + "0".repeat(id.length - 4);

beforeAll(async () => {
  alice = await signIn("dl-alice");
  await signIn("dl-bob");
  generation = await insertGeneration(alice, "completed");
  otherGeneration = await insertGeneration(alice, "completed");
  output = (
    await putObject(services(), {
      userId: alice,
      kind: "output",
      contentType: "image/jpeg",
      bytes,
      width: 64,
      height: 48,
      generationId: generation,
    })
  ).id;
});

describe("download link (happy)", () => {
  it("mints an attachment link that downloads the decrypted image, and audits issue and download", async () => {
    const res = await api(linkPath(generation, output), { method: "POST", user: "dl-alice" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await json<{ url: string; expiresAt: string }>(res);
    const url = new URL(body.url);
    expect(url.pathname).toBe(`/v1/files/${output}`);
    expect(url.searchParams.get("disp")).toBe("attachment");
    const ttl = Date.parse(body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600_000);

    const file = await api(url.pathname + url.search);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-disposition")).toMatch(/^attachment; filename="babypic-output-[A-Za-z0-9]{1,8}\.jpg"$/);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);

    const actions = (await auditRows(alice)).map((r) => ({ action: r.action, detail: r.detail }));
    const issued = actions.filter((a) => a.action === "link.issued" && String(a.detail).includes("attachment"));
    expect(issued.length).toBe(1);
    expect(actions.some((a) => a.action === "file.downloaded")).toBe(true);
  });

  it("tells the client what a generation costs on /v1/me", async () => {
    const me = await json<{ generationCost: number; credits: number }>(await api("/v1/me", { user: "dl-alice" }));
    expect(me.generationCost).toBe(services().config.GENERATION_COST);
    expect(Number.isInteger(me.credits)).toBe(true);
  });

  it("marks generations as previews only when the local Fal fake runs (not here: FAL_KEY is set)", async () => {
    const gen = await json<{ preview: boolean }>(await api(`/v1/generations/${generation}`, { user: "dl-alice" }));
    expect(gen.preview).toBe(false);
  });
});

describe("download link (error)", () => {
  it("rejects malformed ids with 400 validation_failed", async () => {
    await expectProblem(await api(linkPath("gen_nope", output), { method: "POST", user: "dl-alice" }), 400, "validation_failed");
    await expectProblem(
      await api(linkPath(generation, "pho_" + "a".repeat(32)), { method: "POST", user: "dl-alice" }),
      400,
      "validation_failed",
    );
  });

  it("is 404 for an output of another of the user's generations, or one that does not exist", async () => {
    await expectProblem(await api(linkPath(otherGeneration, output), { method: "POST", user: "dl-alice" }), 404, "not_found");
    await expectProblem(await api(linkPath(generation, ghost(output)), { method: "POST", user: "dl-alice" }), 404, "not_found");
  });
});

describe("download link (security)", () => {
  it("needs credentials", async () => {
    await expectProblem(await api(linkPath(generation, output), { method: "POST" }), 401, "unauthorized");
  });

  it("answers another user exactly as for an id that never existed", async () => {
    const theirs = await api(linkPath(generation, output), { method: "POST", user: "dl-bob" });
    const none = await api(linkPath(ghost(generation), ghost(output)), { method: "POST", user: "dl-bob" });
    const a = await expectProblem(theirs, 404, "not_found");
    const b = await expectProblem(none, 404, "not_found");
    expect({ ...a, requestId: null, instance: null }).toEqual({ ...b, requestId: null, instance: null });
  });

  it("stops working the moment the generation is deleted", async () => {
    const gen = await insertGeneration(alice, "completed");
    const obj = (await putObject(services(), { userId: alice, kind: "output", contentType: "image/jpeg", bytes, generationId: gen })).id;
    const { url } = await json<{ url: string }>(await api(linkPath(gen, obj), { method: "POST", user: "dl-alice" }));
    const path = new URL(url).pathname + new URL(url).search;
    expect((await api(path)).status).toBe(200);
    expect((await api(`/v1/generations/${gen}`, { method: "DELETE", user: "dl-alice" })).status).toBe(200);
    await expectProblem(await api(path), 403, "link_invalid");
    await expectProblem(await api(linkPath(gen, obj), { method: "POST", user: "dl-alice" }), 404, "not_found");
  });
});
