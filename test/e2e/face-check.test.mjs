/* global document, self -- only inside page.evaluate() callbacks and init scripts */
// The on-device face check on the real Create page (issue 20): a frontal face
// is accepted and only the square around it is sealed and sent (what the page
// shows is what the API stored); each refusal is said in words with nothing
// uploaded and no generation possible; several faces open the crop tool; the
// check runs on the WebAssembly backend from the app's own origin; the
// landing page loads none of it. Uses the local user "bob".
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { API_URL, BASE_URL, launchBrowser, sessionToken, signInAsLocalUser } from "./helpers.mjs";
import { jpegSize } from "./create-fixtures.mjs";
import { facePhoto, twelveMegapixel } from "./face-cases.mjs";
import { apiAs, checkPage, json } from "./journey-helpers.mjs";

const USER = "bob";
const SLOW = { timeout: 90_000 };

async function ensureConsent(api) {
  const me = await json(await api("/v1/me"));
  if (me.consent) return;
  const state = await json(await api("/v1/me/consent"));
  await json(await api("/v1/me/consent", { method: "POST", json: { termsVersion: state.termsVersion, peopleConsent: true } }));
}

/** A signed-in, consented browser on the Create page, recording every request. */
async function createPage(t) {
  const b = await launchBrowser();
  t.after(() => b.close());
  const page = b.page;
  await signInAsLocalUser(page, USER);
  const api = apiAs(await sessionToken(page));
  await ensureConsent(api);
  const requests = [];
  page.on("request", (r) => requests.push({ method: r.method(), url: r.url() }));
  await page.goto("/app/create");
  await page.getByRole("heading", { level: 2, name: "1. Two photos" }).waitFor();
  const posts = (path) => requests.filter((r) => r.method === "POST" && new URL(r.url).pathname === path).length;
  return { b, page, api, requests, posts };
}

/** Every photo the API keeps for the user, by id. */
async function photoIds(api) {
  return (await json(await api("/v1/photos?limit=100"))).photos.map((p) => p.id);
}

/** The photos the API keeps for the user that are not among `before` (ids). */
async function photosSince(api, before) {
  return (await json(await api("/v1/photos?limit=100"))).photos.filter((p) => !before.includes(p.id));
}

/** With the mother's photo passed, chooses the father's: once it passes too, both are uploaded (two POSTs, no more). */
async function uploadWithFather(page, posts, father) {
  await page.getByLabel("Choose a photo of the father").setInputFiles(father);
  for (const p of ["mother", "father"]) await page.getByTestId(`status-${p}`).getByText("Uploaded and stored encrypted.").waitFor(SLOW);
  assert.equal(posts("/v1/photos"), 2);
}

describe("face check on the Create page (happy)", () => {
  test("a frontal face passes on the WebAssembly backend; only the square around it is sent, as shown", async (t) => {
    const { b, page, api, requests, posts } = await createPage(t);
    const before = await photoIds(api);
    const mother = facePhoto("frontal 2 ", "mother.jpg");
    // A 12 MP photo takes the reduced decode (docs/decisions/0024): its square is cut from that decode.
    const father = { name: "father.jpg", mimeType: "image/jpeg", buffer: twelveMegapixel() };
    await page.getByLabel("Choose a photo of the mother").setInputFiles(mother);
    await page
      .getByTestId("status-mother")
      .getByText("The face passed the check. Nothing is sent until the other photo passes too.")
      .waitFor(SLOW);
    assert.equal(posts("/v1/photos"), 0, "nothing uploaded while only one photo has passed");
    const note = page.getByTestId("slot-mother").getByTestId("sent-note");
    await note.getByText("Only this square around the face is sent").waitFor();
    assert.match(await note.innerText(), /The rest of the photo stays on this device/);

    // The check ran in a Web Worker on tfjs's WebAssembly backend (the CSP allows 'wasm-unsafe-eval', nothing more).
    const worker = page.workers().find((w) => /face\.worker/.test(w.url()));
    assert.ok(worker, "the face check runs in a Web Worker");
    assert.equal(await worker.evaluate(() => self.faceCheckBackend), "wasm");
    // Runtime, WebAssembly and models came from the app itself, nowhere else.
    const checkFiles = requests.filter((r) => /\.(wasm|bin)$|face\.worker/.test(new URL(r.url).pathname));
    assert.ok(
      checkFiles.some((r) => r.url.endsWith(".wasm")),
      "the WebAssembly runtime was fetched",
    );
    assert.equal(checkFiles.filter((r) => r.url.endsWith(".bin")).length, 2, "exactly the two models used");
    for (const r of checkFiles) assert.equal(new URL(r.url).origin, new URL(BASE_URL).origin, `${r.url} is served by the app`);

    await uploadWithFather(page, posts, father);

    // What the page shows as sent is what the API stored: the same square, smaller than the photo chosen.
    const stored = await photosSince(api, before);
    assert.equal(stored.length, 2);
    for (const [p, file] of [
      ["mother", mother],
      ["father", father],
    ]) {
      const img = page.getByTestId(`slot-${p}`).getByRole("img", { name: `The ${p}'s photo as it will be sent` });
      const shown = await img.evaluate((el) => ({ width: el.naturalWidth, height: el.naturalHeight }));
      assert.equal(shown.width, shown.height, "the crop is a square");
      assert.ok(
        stored.some((s) => s.width === shown.width && s.height === shown.height),
        `the API stored the ${shown.width}x${shown.height} crop that was shown`,
      );
      const original = jpegSize(file.buffer);
      assert.ok(shown.width * shown.height < original.width * original.height, "less than the whole photo was sent");
      // Its face is about 1340 px: a full-size decode would give a 2944 px square, sent at 2048 px.
      if (p === "father") assert.ok(shown.width <= 1500, `the 12 MP photo's square (${shown.width} px) comes from its half-size decode`);
      const keptText = await page.getByTestId(`slot-${p}`).getByTestId("sent-note").innerText();
      assert.ok(keptText.includes(`${shown.width} × ${shown.height} px`) && keptText.includes(`${original.width} × ${original.height}`));
    }
    // The stored image decodes to the crop (through its signed link, as the page shows it).
    const listed = await photosSince(api, before);
    for (const p of listed) {
      const res = await fetch(new URL(new URL(p.url).pathname + new URL(p.url).search, API_URL));
      assert.equal(res.status, 200);
      assert.deepEqual(jpegSize(Buffer.from(await res.arrayBuffer())), { width: p.width, height: p.height });
    }
    await page.getByRole("button", { name: "Make my baby picture" }).waitFor();
    await checkPage(page, "face-check-accepted");
    assert.deepEqual(b.problems, []);
  });

  test("several faces: the crop tool keeps the face chosen, and only its square is sent", async (t) => {
    const { page, api, posts } = await createPage(t);
    const before = await photoIds(api);
    await page.getByLabel("Choose a photo of the mother").setInputFiles(facePhoto("group photo (sample 6)", "group.jpg"));
    const error = page.getByTestId("error-mother");
    await error.getByText("We found four faces: choose a photo of one person, or crop it to the face to use below.").waitFor(SLOW);
    const chooser = page.getByTestId("slot-mother").getByTestId("face-chooser");
    await chooser.getByRole("img", { name: /4 faces found framed and numbered/ }).waitFor();
    const buttons = chooser.getByRole("button", { name: /^Use face \d/ });
    assert.equal(await buttons.count(), 4, "one button per face");
    await checkPage(page, "face-check-crop-tool");
    await chooser.getByRole("button", { name: "Use face 3 (in the middle) for the mother" }).click();
    await page.getByTestId("status-mother").getByText("The face passed the check.").waitFor(SLOW);
    const shown = await page
      .getByTestId("slot-mother")
      .getByRole("img", { name: "The mother's photo as it will be sent" })
      .evaluate((el) => ({ width: el.naturalWidth, height: el.naturalHeight }));
    assert.equal(shown.width, shown.height);
    assert.ok(shown.width < 1537, "a square around one face, not the group photo");
    await uploadWithFather(page, posts, facePhoto("frontal 1 ", "father.jpg"));
    const stored = await photosSince(api, before);
    assert.ok(
      stored.some((s) => s.width === shown.width && s.height === shown.height),
      "the chosen crop is what the API stored",
    );
  });
});

describe("face check on the Create page (refusals)", () => {
  const cases = [
    ["no face: plain wall", "We couldn't find a clear face: try a sharper photo, facing the camera."],
    ["face 70 px", "The face is too small in this photo"],
    ["face about 100 px", "The face is too small in this photo"],
    ["heavy blur of frontal 1", "The face is blurred: choose a sharper photo"],
    ["turned head 1", "The head is turned away: choose a photo where the person looks at the camera."],
  ];
  test("each refusal is said in words next to its slot; nothing is uploaded and no generation can start", async (t) => {
    const { page, posts } = await createPage(t);
    // The other parent's photo passes, so only the refused one holds everything back.
    await page.getByLabel("Choose a photo of the father").setInputFiles(facePhoto("frontal 3 ", "father.jpg"));
    await page.getByTestId("status-father").getByText("The face passed the check.").waitFor(SLOW);
    for (const [name, message] of cases) {
      await page.getByLabel("Choose a photo of the mother").setInputFiles(facePhoto(name, "mother.jpg"));
      const error = page.getByTestId("error-mother");
      await error.getByText(message).waitFor(SLOW);
      assert.equal(await error.evaluate((el) => el === document.activeElement), true, `focus moves to the refusal (${name})`);
      assert.equal(await page.getByTestId("slot-mother").getByTestId("face-chooser").count(), 0, "no crop tool for one face");
      if (name.startsWith("turned")) await checkPage(page, "face-check-refused");
      await page.getByTestId("slot-mother").getByRole("button", { name: "Start again for the mother" }).click();
    }
    assert.equal(posts("/v1/photos"), 0, "nothing was uploaded: the father's passed photo waits for the mother's");
    assert.equal(posts("/v1/generations"), 0, "no generation was asked for, so no credit reserved");
    assert.equal(await page.getByRole("button", { name: "Make my baby picture" }).isDisabled(), true);
  });
});

describe("face check stays off the landing page", () => {
  test("the landing page loads no face-check code, WebAssembly or model", async (t) => {
    const b = await launchBrowser();
    t.after(() => b.close());
    const urls = [];
    b.page.on("request", (r) => urls.push(new URL(r.url()).pathname));
    await b.page.goto("/");
    await b.page.getByRole("heading", { level: 1 }).first().waitFor();
    await b.page.waitForLoadState("networkidle");
    assert.deepEqual(
      urls.filter((u) => /face|\.wasm$|\.bin$/.test(u)),
      [],
    );
  });
});
