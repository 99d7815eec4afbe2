/**
 * Issue 3, happy path: a sealed photo goes in, what R2 holds is ciphertext
 * only, and what it decrypts to is the same image without its metadata
 * (checked with exifr, an independent reader, and by searching for the
 * metadata strings themselves).
 */
import { env } from "cloudflare:test";
import exifr from "exifr";
import { describe, expect, it } from "vitest";
import { getObject } from "../../worker/services/storage";
import { validateImage } from "../../worker/services/image";
import { gif, jpegWithExif, pngWithText, webpWithExif } from "../fixtures/images";
import { json, services } from "../helpers";
import { ascii, bytesOf, indexOf, r2Contents, upload, type PhotoBody } from "./helpers";

const SECRETS = ["BabyPicTestCam", "Model X100", "SN-123456789", "Jane Parent", "secret place", "Paris", "hidden comment", "Rue Secret", "a png comment"];

async function everyMetadata(bytes: Uint8Array): Promise<Record<string, unknown> | undefined> {
  return (await exifr.parse(bytes, { tiff: true, exif: true, gps: true, xmp: true, iptc: true, ifd1: true, interop: true, makerNote: true, userComment: true, icc: false, ihdr: false, jfif: false })) as
    | Record<string, unknown>
    | undefined;
}

function expectNoSecretStrings(bytes: Uint8Array): void {
  for (const s of SECRETS) expect(indexOf(bytes, ascii(s)), `"${s}" left in the stored image`).toBe(-1);
  expect(indexOf(bytes, ascii("Exif\0\0")), "EXIF header left").toBe(-1);
  expect(indexOf(bytes, ascii("http://ns.adobe.com/xap/1.0/")), "XMP packet left").toBe(-1);
}

describe("intake: happy path", () => {
  it("the fixtures really carry metadata (so the tests below mean something)", async () => {
    const jpeg = await exifr.parse(bytesOf(jpegWithExif), { gps: true, xmp: true, iptc: true });
    expect(jpeg).toMatchObject({ Make: "BabyPicTestCam", latitude: expect.closeTo(48.8584, 3) });
    const png = await exifr.parse(bytesOf(pngWithText), { gps: true, xmp: true });
    expect(png).toMatchObject({ Make: "BabyPicTestCam" });
    expect(indexOf(bytesOf(webpWithExif), ascii("EXIF"))).toBeGreaterThan(0);
    expect(indexOf(bytesOf(webpWithExif), ascii("Jane Parent"))).toBeGreaterThan(0);
  });

  it("JPEG with GPS, camera EXIF, XMP, IPTC and a comment: stored without any of it", async () => {
    const original = bytesOf(jpegWithExif);
    const { res, userId } = await upload("alice", original, "image/jpeg");
    expect(res.status).toBe(201);
    const body = await json<PhotoBody>(res);
    expect(body).toMatchObject({ width: 320, height: 400, contentType: "image/jpeg" });
    expect(body.id).toMatch(/^pho_[0-9a-f]{32}$/);
    expect(res.headers.get("location")).toBe(`/v1/photos/${body.id}`);
    expect(Date.parse(body.expiresAt ?? "") - Date.parse(body.createdAt)).toBe(24 * 3600 * 1000);

    const stored = await getObject(services(), userId, body.id);
    expect(stored).not.toBeNull();
    const bytes = stored?.bytes ?? new Uint8Array();
    expect(bytes.length).toBe(body.bytes);
    expect(bytes.length).toBeLessThan(original.length);
    expect(await everyMetadata(bytes)).toBeUndefined();
    expect(await exifr.gps(bytes)).toBeUndefined();
    expectNoSecretStrings(bytes);
    // Still the same picture: a valid JPEG of the same size whose scan data is untouched.
    const again = validateImage(bytes, "image/jpeg");
    expect(again.ok && again.value).toMatchObject({ width: 320, height: 400, removed: [] });
    expect(bytes[0]).toBe(0xff);
    expect(bytes.at(-2)).toBe(0xff);
    expect(bytes.at(-1)).toBe(0xd9);
    const scanRun = original.subarray(original.length - 2000, original.length - 2);
    expect(indexOf(bytes, scanRun)).toBeGreaterThan(0);
  });

  it("PNG with tEXt, zTXt, iTXt (XMP) and eXIf: stored without them", async () => {
    const { res, userId } = await upload("alice", bytesOf(pngWithText), "image/png");
    expect(res.status).toBe(201);
    const body = await json<PhotoBody>(res);
    expect(body).toMatchObject({ width: 300, height: 300, contentType: "image/png" });
    const bytes = (await getObject(services(), userId, body.id))?.bytes ?? new Uint8Array();
    expect(await everyMetadata(bytes)).toBeUndefined();
    expectNoSecretStrings(bytes);
    for (const chunk of ["tEXt", "zTXt", "iTXt", "eXIf", "tIME"]) expect(indexOf(bytes, ascii(chunk)), chunk).toBe(-1);
    for (const chunk of ["IHDR", "PLTE", "IDAT", "IEND"]) expect(indexOf(bytes, ascii(chunk)), chunk).toBeGreaterThan(0);
  });

  it("WebP with EXIF and XMP chunks: stored without them, VP8X flags cleared, RIFF size fixed", async () => {
    const { res, userId } = await upload("alice", bytesOf(webpWithExif), "image/webp");
    expect(res.status).toBe(201);
    const body = await json<PhotoBody>(res);
    expect(body).toMatchObject({ width: 300, height: 320, contentType: "image/webp" });
    const bytes = (await getObject(services(), userId, body.id))?.bytes ?? new Uint8Array();
    expectNoSecretStrings(bytes);
    const chunks: string[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    for (let p = 12; p + 8 <= bytes.length; ) {
      const fourcc = new TextDecoder().decode(bytes.subarray(p, p + 4));
      chunks.push(fourcc);
      if (fourcc === "VP8X") expect((bytes[p + 8] ?? 0) & 0x0c).toBe(0);
      const len = view.getUint32(p + 4, true);
      p += 8 + len + (len & 1);
    }
    expect(chunks).not.toContain("EXIF");
    expect(chunks).not.toContain("XMP ");
    expect(chunks).toContain("VP8 ");
  });

  it("R2 never holds plaintext: no image magic and no run of any fixture's bytes in any stored object", async () => {
    const fixtures = [jpegWithExif, pngWithText, webpWithExif].map(bytesOf);
    const all = await r2Contents();
    expect(all.filter((o) => o.key.startsWith("u/")).length).toBeGreaterThanOrEqual(3);
    // Key files live in the key bucket, never beside the data (docs/decisions/0011).
    expect(all.some((o) => o.key.startsWith("keys/"))).toBe(false);
    const keyFiles = await r2Contents(env.KEYS);
    expect(keyFiles.length).toBeGreaterThanOrEqual(1);
    for (const o of all) {
      expect(indexOf(o.bytes, new Uint8Array([0xff, 0xd8, 0xff])), `${o.key} has JPEG magic`).toBe(-1);
      expect(indexOf(o.bytes, new Uint8Array([0x89, 0x50, 0x4e, 0x47])), `${o.key} has PNG magic`).toBe(-1);
      expect(indexOf(o.bytes, ascii("WEBP")), `${o.key} has WebP magic`).toBe(-1);
      expect(indexOf(o.bytes, ascii("IDAT")), `${o.key} has PNG chunks`).toBe(-1);
      for (const f of fixtures) {
        for (const at of [0.25, 0.5, 0.75]) {
          const start = Math.floor(f.length * at);
          expect(indexOf(o.bytes, f.subarray(start, start + 32)), `${o.key} holds fixture bytes`).toBe(-1);
        }
      }
    }
    // And the key files hold no raw key: only the wrapped form.
    for (const o of keyFiles) {
      const file = JSON.parse(new TextDecoder().decode(o.bytes)) as Record<string, unknown>;
      expect(Object.keys(file).sort()).toEqual(["alg", "dek", "iv", "kek", "v"]);
    }
  });

  it("a GIF fixture is a real GIF (used by the rejection suite)", () => {
    expect(new TextDecoder().decode(bytesOf(gif).subarray(0, 6))).toMatch(/^GIF8[79]a$/);
  });
});
