/**
 * Issue 3, encryption at rest (worker/services/storage.ts, crypto/*): per-user
 * wrapped DEKs in R2, the segmented format's integrity (tampering, truncation,
 * reordering, swapping between users), ranges, streams, KEK rotation and
 * crypto-shredding.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { objects } from "../../worker/db/schema";
import { DomainError } from "../../worker/lib/domain-error";
import { rewrapKeys, rewrapStaleKeys, unwrapDek, userDataKey } from "../../worker/services/crypto/keys";
import { runSweeps } from "../../worker/scheduled";
import { DEFAULT_SEGMENT_SHIFT, HEADER_LENGTH, SegmentCipher, TAG_LENGTH, newHeader, parseHeader, plaintextLengthOf, sealStream, storedLength } from "../../worker/services/crypto/segmented";
import { deleteObjects, getObject, openObjectStream, putObject, shredUserKey, userPrefixes } from "../../worker/services/storage";
import { services, servicesWithMasterKeys } from "../helpers";

const SEG = 2 ** DEFAULT_SEGMENT_SHIFT;

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function rawStored(key: string): Promise<Uint8Array> {
  const obj = await env.BUCKET.get(key);
  if (!obj) throw new Error(`missing ${key}`);
  return new Uint8Array(await obj.arrayBuffer());
}

async function keyFile(userId: string): Promise<{ kek: string } & Record<string, unknown>> {
  const obj = await env.KEYS.get(`keys/${userId}`);
  if (!obj) throw new Error("no key file");
  return (await obj.json()) as { kek: string } & Record<string, unknown>;
}

describe("storage: happy path", () => {
  it("round-trips sizes around segment boundaries, stored size as specified", async () => {
    const s = services();
    for (const n of [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 17]) {
      const data = pattern(n, n + 1);
      const row = await putObject(s, { userId: "usr_sizes", kind: "output", contentType: "image/png", bytes: data });
      expect(row.bytes).toBe(n);
      expect(row.r2Key).toBe(`u/usr_sizes/output/${row.id}`);
      const head = await env.BUCKET.head(row.r2Key);
      expect(head?.size).toBe(storedLength(n));
      expect(plaintextLengthOf(storedLength(n), DEFAULT_SEGMENT_SHIFT)).toBe(n);
      expect((await getObject(s, "usr_sizes", row.id))?.bytes).toEqual(data);
      const streamed = await openObjectStream(s, "usr_sizes", row.id);
      expect(streamed?.size).toBe(n);
      expect(await readAll(streamed?.stream ?? new ReadableStream())).toEqual(data);
    }
  });

  it("an object written with 64 KiB segments (the default before decision 0007) still reads whole, streamed and by range", async () => {
    const s = services();
    const data = pattern(5 * 65536 + 321, 9);
    const row = await putObject(s, { userId: "usr_legacy", kind: "photo", contentType: "image/jpeg", bytes: data });
    const dek = await userDataKey(s, "usr_legacy", { create: false });
    if (!dek) throw new Error("no data key");
    // Re-seal the same object the way it was written before: same key hierarchy, 2^16-byte segments.
    const legacy = await SegmentCipher.create(dek, { userId: "usr_legacy", objectId: row.id, kind: "photo" }, newHeader(16));
    const parts: Uint8Array[] = [];
    for await (const part of sealStream(legacy, [data], { plaintextBytes: 0 })) parts.push(part);
    const stored = new Uint8Array(await new Blob(parts).arrayBuffer());
    expect(stored.length).toBe(storedLength(data.length, 16));
    expect(parseHeader(stored).segmentShift).toBe(16);
    await env.BUCKET.put(row.r2Key, stored);
    expect((await getObject(services(), "usr_legacy", row.id))?.bytes).toEqual(data);
    const whole = await openObjectStream(services(), "usr_legacy", row.id);
    expect(await readAll(whole?.stream ?? new ReadableStream())).toEqual(data);
    const range = await openObjectStream(services(), "usr_legacy", row.id, { start: 65530, end: 3 * 65536 + 7 });
    expect(await readAll(range?.stream ?? new ReadableStream())).toEqual(data.subarray(65530, 3 * 65536 + 8));
  });

  it("a stream input is encrypted as it arrives (odd chunk sizes; > 5 MiB goes multipart)", async () => {
    const s = services();
    for (const n of [200_000, 6 * 1024 * 1024 + 12345]) {
      const data = pattern(n, 7);
      let off = 0;
      const sizes = [1, 999, 65536, 70000, 3];
      let k = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (off >= data.length) return c.close();
          const take = sizes[k++ % sizes.length] ?? 1;
          c.enqueue(data.slice(off, off + take));
          off += take;
        },
      });
      const row = await putObject(s, { userId: "usr_stream", kind: "export", contentType: "application/zip", bytes: stream });
      expect(row.bytes).toBe(n);
      expect((await env.BUCKET.head(row.r2Key))?.size).toBe(storedLength(n));
      expect((await getObject(s, "usr_stream", row.id))?.bytes).toEqual(data);
    }
  });

  it("ranges decrypt only what is asked, across segment boundaries; end is clamped; past the end is 416", async () => {
    const s = services();
    const data = pattern(5 * SEG + 1000, 3);
    const row = await putObject(s, { userId: "usr_range", kind: "output", contentType: "image/jpeg", bytes: data });
    for (const [start, end] of [
      [0, 0],
      [0, 99],
      [SEG - 10, SEG + 10],
      [SEG, 2 * SEG - 1],
      [2 * SEG + 5, 4 * SEG + 7],
      [data.length - 1, data.length - 1],
      [100, data.length - 1],
    ] as const) {
      const got = await openObjectStream(s, "usr_range", row.id, { start, end });
      expect(got?.size).toBe(end - start + 1);
      expect(await readAll(got?.stream ?? new ReadableStream())).toEqual(data.subarray(start, end + 1));
    }
    const clamped = await openObjectStream(s, "usr_range", row.id, { start: 10, end: data.length + 5000 });
    expect(clamped?.size).toBe(data.length - 10);
    await expect(openObjectStream(s, "usr_range", row.id, { start: data.length, end: data.length + 1 })).rejects.toSatisfy(
      (e) => e instanceof DomainError && e.kind === "out_of_range",
    );
  });

  it("two users get different DEKs, each wrapped under the current KEK with their id bound in", async () => {
    const s = services();
    await putObject(s, { userId: "usr_a", kind: "photo", contentType: "image/jpeg", bytes: pattern(10) });
    await putObject(s, { userId: "usr_b", kind: "photo", contentType: "image/jpeg", bytes: pattern(10) });
    const ring = s.config.MASTER_KEYS;
    const a = await unwrapDek(ring, "usr_a", await keyFile("usr_a"));
    const b = await unwrapDek(ring, "usr_b", await keyFile("usr_b"));
    expect(a.dek.length).toBe(32);
    expect(a.dek).not.toEqual(b.dek);
    expect(a.kekId).toBe(ring.current);
    // A key file copied onto another user's path does not unwrap (the wrap binds the user id).
    await expect(unwrapDek(ring, "usr_b", await keyFile("usr_a"))).rejects.toThrow(/does not authenticate/);
  });

  it("objects, keys and prefixes: userPrefixes covers everything of the user", async () => {
    const s = services();
    const row = await putObject(s, { userId: "usr_pref", kind: "photo", contentType: "image/jpeg", bytes: pattern(10) });
    const prefixes = userPrefixes("usr_pref");
    expect(prefixes.some((p) => row.r2Key.startsWith(p))).toBe(true);
    expect(prefixes.some((p) => "keys/usr_pref".startsWith(p))).toBe(true);
    // The data bucket holds the object only; the wrapped key is in the key bucket (docs/decisions/0011).
    const listed = (await Promise.all(prefixes.map((p) => env.BUCKET.list({ prefix: p })))).flatMap((l) => l.objects.map((o) => o.key));
    expect(listed).toEqual([row.r2Key]);
    expect(await env.KEYS.head("keys/usr_pref")).not.toBeNull();
  });
});

describe("storage: integrity (security)", () => {
  it("A's object cannot be opened with B's key, nor with A's key under B's name (associated data)", async () => {
    const s = services();
    const data = pattern(1000, 9);
    const rowA = await putObject(s, { userId: "usr_x1", kind: "photo", contentType: "image/jpeg", bytes: data });
    await putObject(s, { userId: "usr_x2", kind: "photo", contentType: "image/jpeg", bytes: pattern(5) });
    const stored = await rawStored(rowA.r2Key);
    const header = parseHeader(stored);
    const sealed = stored.subarray(HEADER_LENGTH);
    const dekA = await userDataKey(s, "usr_x1", { create: false });
    const dekB = await userDataKey(s, "usr_x2", { create: false });
    if (!dekA || !dekB) throw new Error("keys missing");
    const right = await SegmentCipher.create(dekA, { userId: "usr_x1", objectId: rowA.id, kind: "photo" }, header);
    expect(await right.open(sealed, 0, true)).toEqual(data);
    const withB = await SegmentCipher.create(dekB, { userId: "usr_x1", objectId: rowA.id, kind: "photo" }, header);
    await expect(withB.open(sealed, 0, true)).rejects.toThrow(/does not authenticate/);
    const asB = await SegmentCipher.create(dekA, { userId: "usr_x2", objectId: rowA.id, kind: "photo" }, header);
    await expect(asB.open(sealed, 0, true)).rejects.toThrow(/does not authenticate/);
    const asOutput = await SegmentCipher.create(dekA, { userId: "usr_x1", objectId: rowA.id, kind: "output" }, header);
    await expect(asOutput.open(sealed, 0, true)).rejects.toThrow(/does not authenticate/);
  });

  it("an object copied into another user's storage (row and R2) does not decrypt there", async () => {
    const s = services();
    const rowA = await putObject(s, { userId: "usr_y1", kind: "photo", contentType: "image/jpeg", bytes: pattern(3000) });
    const rowB = await putObject(s, { userId: "usr_y2", kind: "photo", contentType: "image/jpeg", bytes: pattern(3000, 2) });
    await env.BUCKET.put(rowB.r2Key, await rawStored(rowA.r2Key));
    await expect(getObject(services(), "usr_y2", rowB.id)).rejects.toThrow(/does not authenticate/);
  });

  async function fourSegments(userId: string) {
    const s = services();
    const data = pattern(3 * SEG + 500, 11);
    const row = await putObject(s, { userId, kind: "output", contentType: "image/jpeg", bytes: data });
    const stored = await rawStored(row.r2Key);
    const seg = (i: number) => stored.subarray(HEADER_LENGTH + i * (SEG + TAG_LENGTH), HEADER_LENGTH + (i + 1) * (SEG + TAG_LENGTH));
    return { s, data, row, stored, seg };
  }

  it("reordered segments are detected (whole reads, streams and ranges)", async () => {
    const { s, data, row, stored, seg } = await fourSegments("usr_reorder");
    const swapped = new Uint8Array(stored);
    swapped.set(seg(2), HEADER_LENGTH + 1 * (SEG + TAG_LENGTH));
    swapped.set(seg(1), HEADER_LENGTH + 2 * (SEG + TAG_LENGTH));
    await env.BUCKET.put(row.r2Key, swapped);
    await expect(getObject(s, "usr_reorder", row.id)).rejects.toThrow(/segment 1/);
    const whole = await openObjectStream(s, "usr_reorder", row.id);
    await expect(readAll(whole?.stream ?? new ReadableStream())).rejects.toThrow(/segment 1/);
    const bad = await openObjectStream(s, "usr_reorder", row.id, { start: SEG + 5, end: SEG + 10 });
    await expect(readAll(bad?.stream ?? new ReadableStream())).rejects.toThrow(/does not authenticate/);
    // Untouched segments still read: ranges are verified segment by segment.
    const good = await openObjectStream(s, "usr_reorder", row.id, { start: 3 * SEG, end: 3 * SEG + 99 });
    expect(await readAll(good?.stream ?? new ReadableStream())).toEqual(data.subarray(3 * SEG, 3 * SEG + 100));
  });

  it("truncation is detected: dropping the last segment, even with the row's size edited to match", async () => {
    const { s, row, stored } = await fourSegments("usr_trunc");
    const cut = stored.subarray(0, HEADER_LENGTH + 3 * (SEG + TAG_LENGTH));
    await env.BUCKET.put(row.r2Key, cut);
    await expect(getObject(s, "usr_trunc", row.id)).rejects.toThrow(/stored size/);
    // An attacker who can also edit D1: the size now matches, but segment 2 was not sealed as final.
    await s.db.update(objects).set({ bytes: 3 * SEG }).where(eq(objects.id, row.id));
    await expect(getObject(services(), "usr_trunc", row.id)).rejects.toThrow(/segment 2/);
    const tail = await openObjectStream(services(), "usr_trunc", row.id, { start: 3 * SEG - 10, end: 3 * SEG - 1 });
    await expect(readAll(tail?.stream ?? new ReadableStream())).rejects.toThrow(/segment 2/);
  });

  it("a flipped bit anywhere (header, body, tag) is detected", async () => {
    const { s, row, stored } = await fourSegments("usr_flip");
    for (const at of [5, 10, HEADER_LENGTH + 3, HEADER_LENGTH + SEG + 20, stored.length - 1]) {
      const bad = new Uint8Array(stored);
      bad[at] = (bad[at] ?? 0) ^ 0x80;
      await env.BUCKET.put(row.r2Key, bad);
      await expect(getObject(s, "usr_flip", row.id), `byte ${at}`).rejects.toThrow(/integrity/);
    }
  });
});

describe("storage: ownership, deletion and shredding", () => {
  it("reads and deletes name the owner: another user's id is null / 0", async () => {
    const s = services();
    const row = await putObject(s, { userId: "usr_own", kind: "photo", contentType: "image/jpeg", bytes: pattern(100) });
    expect(await getObject(s, "usr_other", row.id)).toBeNull();
    expect(await openObjectStream(s, "usr_other", row.id)).toBeNull();
    expect(await deleteObjects(s, "usr_other", [row.id])).toBe(0);
    expect(await env.BUCKET.head(row.r2Key)).not.toBeNull();
    expect(await deleteObjects(s, "usr_own", [row.id, "pho_doesnotexist"])).toBe(1);
    expect(await env.BUCKET.head(row.r2Key)).toBeNull();
    expect(await getObject(s, "usr_own", row.id)).toBeNull();
  });

  it("after shredUserKey nothing of the user decrypts, even though ciphertext is still in R2", async () => {
    const s = services();
    const row = await putObject(s, { userId: "usr_shred", kind: "photo", contentType: "image/jpeg", bytes: pattern(100) });
    expect(await getObject(s, "usr_shred", row.id)).not.toBeNull();
    await shredUserKey(s, "usr_shred");
    expect(await env.KEYS.head("keys/usr_shred")).toBeNull();
    expect(await env.BUCKET.head("keys/usr_shred")).toBeNull();
    expect(await env.BUCKET.head(row.r2Key)).not.toBeNull();
    expect(await getObject(s, "usr_shred", row.id)).toBeNull();
    expect(await getObject(services(), "usr_shred", row.id)).toBeNull();
    expect(await openObjectStream(services(), "usr_shred", row.id)).toBeNull();
    expect(await openObjectStream(services(), "usr_shred", row.id, { start: 0, end: 5 })).toBeNull();
  });

  it("two first writes racing for a new user end with one DEK that opens both objects", async () => {
    const [r1, r2] = await Promise.all([
      putObject(services(), { userId: "usr_race", kind: "photo", contentType: "image/jpeg", bytes: pattern(50, 1) }),
      putObject(services(), { userId: "usr_race", kind: "photo", contentType: "image/jpeg", bytes: pattern(50, 2) }),
    ]);
    expect((await getObject(services(), "usr_race", r1.id))?.bytes).toEqual(pattern(50, 1));
    expect((await getObject(services(), "usr_race", r2.id))?.bytes).toEqual(pattern(50, 2));
  });
});

describe("storage: KEK rotation", () => {
  it("an object written under the old KEK id still reads after rotating, and its key is re-wrapped under the new one", async () => {
    const old = servicesWithMasterKeys("kek-test-1", ["kek-test-1", "kek-test-2"]);
    const data = pattern(70_000, 5);
    const row = await putObject(old, { userId: "usr_rot", kind: "photo", contentType: "image/jpeg", bytes: data });
    expect((await keyFile("usr_rot")).kek).toBe("kek-test-1");

    // Rotation: kek-test-2 becomes current, kek-test-1 stays in the ring.
    const rotated = servicesWithMasterKeys("kek-test-2", ["kek-test-1", "kek-test-2"]);
    expect((await getObject(rotated, "usr_rot", row.id))?.bytes).toEqual(data);
    expect((await keyFile("usr_rot")).kek).toBe("kek-test-2");

    // Retired: kek-test-1 removed; the re-wrapped key still opens everything.
    const retired = servicesWithMasterKeys("kek-test-2", ["kek-test-2"]);
    expect((await getObject(retired, "usr_rot", row.id))?.bytes).toEqual(data);
  });

  it("rewrapKeys moves every key file off an old KEK; a file under a KEK missing from the ring fails loudly", async () => {
    const old = servicesWithMasterKeys("kek-test-1", ["kek-test-1", "kek-test-2"]);
    const row = await putObject(old, { userId: "usr_rw1", kind: "photo", contentType: "image/jpeg", bytes: pattern(10) });
    await putObject(old, { userId: "usr_rw2", kind: "photo", contentType: "image/jpeg", bytes: pattern(10) });
    await expect(getObject(servicesWithMasterKeys("kek-test-2", ["kek-test-2"]), "usr_rw1", row.id)).rejects.toThrow(/kek-test-1/);

    let cursor: string | undefined;
    let rewrapped = 0;
    do {
      const page = await rewrapKeys(servicesWithMasterKeys("kek-test-2", ["kek-test-1", "kek-test-2"]), { limit: 2, ...(cursor ? { cursor } : {}) });
      rewrapped += page.rewrapped;
      cursor = page.cursor ?? undefined;
    } while (cursor);
    expect(rewrapped).toBeGreaterThanOrEqual(2);
    const all = await env.KEYS.list({ prefix: "keys/" });
    for (const o of all.objects) expect((await keyFile(o.key.slice(5))).kek).toBe("kek-test-2");
    expect((await getObject(servicesWithMasterKeys("kek-test-2", ["kek-test-2"]), "usr_rw1", row.id))?.bytes).toEqual(pattern(10));
  });

  it("the cron's keys.rewrap sweep finds old-KEK files from listing metadata and re-wraps them", async () => {
    const old = servicesWithMasterKeys("kek-test-1", ["kek-test-1", "kek-test-2"]);
    await putObject(old, { userId: "usr_cron", kind: "photo", contentType: "image/jpeg", bytes: pattern(10) });
    expect((await env.KEYS.head("keys/usr_cron"))?.customMetadata).toEqual({ kek: "kek-test-1" });
    const results = await runSweeps(services());
    expect(results).toContainEqual({ name: "keys.rewrap", ok: true });
    expect((await keyFile("usr_cron")).kek).toBe("kek-test-2");
    expect((await env.KEYS.head("keys/usr_cron"))?.customMetadata).toEqual({ kek: "kek-test-2" });
    expect((await rewrapStaleKeys(services())).rewrapped).toBe(0);
    // Other sweeps may remove the photo itself (it has no user row); the key now opens without kek-test-1.
    const retired = servicesWithMasterKeys("kek-test-2", ["kek-test-2"]).config.MASTER_KEYS;
    expect((await unwrapDek(retired, "usr_cron", await keyFile("usr_cron"))).kekId).toBe("kek-test-2");
  });
});
