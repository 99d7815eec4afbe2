/**
 * Decision 0007: for a JPEG that ends with its EOI marker, POST /v1/photos
 * leaves the first scan's entropy-coded data to be checked while it is
 * encrypted (validateImage `deferEntropyScan` + putObject `entropyScan`),
 * instead of walking it twice. Whatever path a photo takes, what is stored must
 * be exactly what the full walk (validateImage without deferring) gives, and a
 * marker found late must store nothing of the first attempt.
 */
import { zipSync } from "fflate";
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { auditLog } from "../../worker/db/schema";
import { concat } from "../../worker/lib/bytes";
import { getObject, putObject, UnscannedMarkerError } from "../../worker/services/storage";
import { validateImage } from "../../worker/services/image";
import { pngWithText } from "../fixtures/images";
import { expectProblem, json, services, signIn } from "../helpers";
import { ascii, bytesOf, indexOf, jpegSegment, objectRows, post, r2Keys, seal } from "./helpers";
import { openAuditRows } from "../../worker/services/audit";

/** Random entropy-coded bytes with every 0xFF stuffed (seeded, so failures reproduce). */
function scanData(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const b = x >>> 24;
    out[i] = b;
    if (b === 0xff && i + 1 < n) out[++i] = 0x00;
  }
  if (out[n - 1] === 0xff) out[n - 1] = 0x01;
  return out;
}

const SOI = Uint8Array.of(0xff, 0xd8);
const EOI = Uint8Array.of(0xff, 0xd9);
const jfif = jpegSegment(0xe0, ascii("JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
const exif = (text: string) => jpegSegment(0xe1, concat(ascii("Exif\0\0"), ascii(text)));
const dqt = jpegSegment(0xdb, concat(Uint8Array.of(0), new Uint8Array(64).fill(1)));
const sof = jpegSegment(0xc0, Uint8Array.from([8, 3000 >> 8, 3000 & 0xff, 4000 >> 8, 4000 & 0xff, 1, 1, 0x11, 0]));
const dht = jpegSegment(0xc4, concat(Uint8Array.of(0), new Uint8Array(16)));
const sos = jpegSegment(0xda, Uint8Array.of(1, 1, 0, 0, 63, 0));
const MiB = 1024 * 1024;

function fullWalk(input: Uint8Array): Uint8Array {
  const r = validateImage(input.slice(), "image/jpeg");
  if (!r.ok) throw new Error(r.detail);
  expect(r.value.unscannedEntropy).toBeUndefined();
  return r.value.bytes;
}

async function uploadAs(user: string, bytes: Uint8Array): Promise<{ res: Response; userId: string }> {
  const userId = await signIn(user);
  const sealed = await seal(userId, bytes);
  return { res: await post(user, sealed.envelope, { uploadId: sealed.uploadId }), userId };
}

async function stored(userId: string, res: Response): Promise<Uint8Array> {
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  return (await getObject(services(), userId, id))?.bytes ?? new Uint8Array();
}

describe("deferred entropy scan: validateImage", () => {
  it("a baseline JPEG ending in EOI: same bytes as the full walk, and the unscanned range is exactly its scan data", () => {
    const data = scanData(300_000, 1);
    const input = concat(SOI, jfif, exif("GPS 51.5N 0.1W"), dqt, sof, dht, sos, data, EOI);
    const r = validateImage(input.slice(), "image/jpeg", { inPlace: true, deferEntropyScan: true });
    if (!r.ok) throw new Error(r.detail);
    expect(r.value.bytes).toEqual(fullWalk(input));
    const range = r.value.unscannedEntropy;
    expect(range).toEqual({ start: r.value.bytes.length - 2 - data.length, end: r.value.bytes.length - 2 });
    expect(r.value.bytes.subarray(range?.start, range?.end)).toEqual(data);
    expect(r.value.removed).toContain("exif");
  });

  it("is not deferred when bytes follow the last EOI, for a progressive frame, nor for PNG", () => {
    const progressive = concat(SOI, dqt, jpegSegment(0xc2, Uint8Array.from([8, 3000 >> 8, 3000 & 0xff, 4000 >> 8, 4000 & 0xff, 1, 1, 0x11, 0])), dht, sos, scanData(5000, 9), EOI);
    const p = validateImage(progressive, "image/jpeg", { deferEntropyScan: true });
    expect(p.ok && p.value.unscannedEntropy).toBeUndefined();
    expect(p.ok && p.value.bytes).toEqual(progressive);
    const input = concat(SOI, jfif, dqt, sof, sos, scanData(5000, 2), EOI, ascii("trailing"));
    const r = validateImage(input.slice(), "image/jpeg", { deferEntropyScan: true });
    expect(r.ok && r.value.unscannedEntropy).toBeUndefined();
    expect(r.ok && r.value.removed).toContain("trailing-bytes");
    const png = validateImage(bytesOf(pngWithText), "image/png", { deferEntropyScan: true });
    expect(png.ok && png.value.unscannedEntropy).toBeUndefined();
  });
});

/** Whether POST /v1/photos had to fall back to the full walk (it logs `photo.deferred_scan_fallback`). */
function watchFallbacks(): () => number {
  const info = vi.spyOn(console, "info");
  return () => info.mock.calls.filter((args) => String(args[0]).includes("photo.deferred_scan_fallback")).length;
}

async function uploadedAudit(userId: string): Promise<Record<string, unknown>[]> {
  const rows = await services()
    .db.select()
    .from(auditLog)
    .where(and(eq(auditLog.userId, userId), eq(auditLog.action, "photo.uploaded")))
    .all()
    .then((rows) => openAuditRows(services(), rows));
  return rows.map((r) => JSON.parse(r.detail ?? "{}") as Record<string, unknown>);
}

describe("deferred entropy scan: POST /v1/photos stores what the full walk gives", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("a 2.5 MB baseline JPEG (three 1 MiB segments) round-trips stripped, on the fast path", async () => {
    const fallbacks = watchFallbacks();
    const input = concat(SOI, jfif, exif("camera serial 1234"), dqt, sof, dht, sos, scanData(Math.round(2.5 * MiB), 3), EOI);
    const { res, userId } = await uploadAs("alice", input);
    const got = await stored(userId, res);
    expect(got).toEqual(fullWalk(input));
    expect(indexOf(got, ascii("camera serial"))).toBe(-1);
    // The scan data was checked while encrypting: no second walk, no aborted write.
    expect(fallbacks()).toBe(0);
  });

  it("metadata before the scan and more hidden after the first segment: the fallback walks the stripped bytes; both are gone and audited", async () => {
    const fallbacks = watchFallbacks();
    const iptc = jpegSegment(0xed, ascii("Photoshop 3.0\0 caption: our street"));
    // A kept ICC profile longer than the IPTC block before it: stripping in place shifts the head over
    // the IPTC bytes, so the buffer as decrypted no longer parses; the fallback must walk the stripped view.
    const icc = jpegSegment(0xe2, concat(ascii("ICC_PROFILE\0"), new Uint8Array(2000).fill(0x42)));
    const input = concat(SOI, jfif, icc, iptc, dqt, sof, dht, sos, scanData(MiB + 999, 13), exif("hidden GPS 40.7N 74.0W"), jpegSegment(0xfe, ascii("hidden note")), dht, sos, scanData(50_000, 14), EOI);
    const { res, userId } = await uploadAs("carol", input);
    const got = await stored(userId, res);
    expect(got).toEqual(fullWalk(input));
    for (const text of ["our street", "hidden GPS", "hidden note"]) expect(indexOf(got, ascii(text)), text).toBe(-1);
    expect(fallbacks()).toBe(1);
    const detail = (await uploadedAudit(userId)).at(-1);
    // What the first pass stripped (before the scan) and what the full walk stripped (after it), together.
    expect(String(detail?.["metadataRemoved"]).split(",").sort()).toEqual(["comment", "exif", "iptc"]);
  });

  it("metadata hidden between two scans, past the first segment: found while encrypting, stripped, one object stored", async () => {
    const first = scanData(MiB + 4321, 4);
    const input = concat(SOI, jfif, dqt, sof, dht, sos, first, exif("hidden GPS 48.8N 2.3E"), jpegSegment(0xfe, ascii("hidden comment")), dht, sos, scanData(200_000, 5), EOI);
    const keysBefore = await r2Keys();
    const rowsBefore = await objectRows();
    const { res, userId } = await uploadAs("bob", input);
    const got = await stored(userId, res);
    expect(got).toEqual(fullWalk(input));
    expect(indexOf(got, ascii("hidden GPS"))).toBe(-1);
    expect(indexOf(got, ascii("hidden comment"))).toBe(-1);
    // The first, aborted attempt left nothing: one new R2 object (plus bob's key file) and one new row.
    const added = (await r2Keys()).filter((k) => !keysBefore.includes(k));
    expect(added.filter((k) => k.startsWith(`u/${userId}/photo/`))).toHaveLength(1);
    expect(await objectRows()).toBe(rowsBefore + 1);
  });

  it("a JPEG + ZIP polyglot whose ZIP comment ends in FFD9: the appended archive is cut at the real EOI", async () => {
    const jpeg = concat(SOI, jfif, dqt, sof, dht, sos, scanData(1_500_000, 6), EOI);
    // A valid ZIP whose archive comment is the two bytes FF D9: the end-of-central-directory record
    // ends with the comment length (APPNOTE 4.3.16), 0 as fflate writes it; make it 2 and append them.
    const zip = zipSync({ "evil.txt": ascii("payload ".repeat(100)) });
    zip.set([0x02, 0x00], zip.length - 2);
    const polyglot = concat(jpeg, zip, EOI);
    expect(Array.from(polyglot.subarray(-2))).toEqual([0xff, 0xd9]);
    const { res, userId } = await uploadAs("carol", polyglot);
    const got = await stored(userId, res);
    expect(got).toEqual(fullWalk(jpeg));
    expect(indexOf(got, ascii("PK\u0003\u0004"))).toBe(-1);
    expect(got.length).toBe(jpeg.length);
  });

  it("a marker that makes the full walk refuse the photo: 400 and nothing stored", async () => {
    const input = concat(SOI, dqt, sof, dht, sos, scanData(MiB + 100, 7), sof, sos, scanData(1000, 8), EOI);
    const userId = await signIn("carol");
    const keysBefore = await r2Keys();
    const rowsBefore = await objectRows();
    const sealed = await seal(userId, input);
    const body = await expectProblem(await post("carol", sealed.envelope, { uploadId: sealed.uploadId }), 400, "invalid_image");
    expect(body["reason"]).toBe("malformed");
    expect((await r2Keys()).filter((k) => k.startsWith(`u/${userId}/`))).toEqual(keysBefore.filter((k) => k.startsWith(`u/${userId}/`)));
    expect(await objectRows()).toBe(rowsBefore);
  });

  it("concurrent uploads share the scan window without mixing their bytes", async () => {
    const inputs = [9, 10, 11].map((seed) => concat(SOI, jfif, dqt, sof, dht, sos, scanData(2 * MiB + seed * 1000, seed), EOI));
    const userId = await signIn("alice");
    const sealed = await Promise.all(inputs.map((b) => seal(userId, b)));
    const responses = await Promise.all(sealed.map((s) => post("alice", s.envelope, { uploadId: s.uploadId })));
    for (const [i, res] of responses.entries()) expect(await stored(userId, res)).toEqual(fullWalk(inputs[i] ?? new Uint8Array()));
  });
});

describe("deferred entropy scan: putObject", () => {
  it("a range with no marker stores the bytes, readable as sealed without one", async () => {
    const data = scanData(2 * MiB + 12_345, 15);
    const row = await putObject(services(), { userId: "usr_clean", kind: "photo", contentType: "image/jpeg", bytes: data, entropyScan: { start: 100, end: data.length - 2 } });
    expect(row.bytes).toBe(data.length);
    expect((await getObject(services(), "usr_clean", row.id))?.bytes).toEqual(data);
  });

  it("refuses a range with a stream input, before writing anything", async () => {
    const keysBefore = await r2Keys();
    const stream = new Blob([scanData(1000, 16)]).stream();
    await expect(putObject(services(), { userId: "usr_stream", kind: "photo", contentType: "image/jpeg", bytes: stream, entropyScan: { start: 0, end: 998 } })).rejects.toThrow(
      /entropyScan/,
    );
    expect(await r2Keys()).toEqual(keysBefore);
  });

  it.each([
    ["inside a segment", 2 * MiB + 17],
    ["straddling two segments (0xFF last in one, its code first in the next)", 2 * MiB - 1],
    ["at the very end of the range", 3 * MiB - 4],
  ])("a marker %s aborts the write: UnscannedMarkerError, no row, no object", async (_name, at) => {
    const data = scanData(3 * MiB, 12);
    if (data[at - 1] === 0xff) data[at - 1] = 0x01;
    data.set([0xff, 0xe1], at);
    const keysBefore = await r2Keys();
    const rowsBefore = await objectRows();
    await expect(
      putObject(services(), { userId: "usr_deferred", kind: "photo", contentType: "image/jpeg", bytes: data, entropyScan: { start: 0, end: data.length - 2 } }),
    ).rejects.toBeInstanceOf(UnscannedMarkerError);
    expect((await r2Keys()).filter((k) => k.startsWith("u/usr_deferred/"))).toEqual([]);
    expect(await objectRows()).toBe(rowsBefore);
    expect((await r2Keys()).filter((k) => !keysBefore.includes(k) && !k.startsWith("keys/"))).toEqual([]);
  });
});
