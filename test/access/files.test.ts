/**
 * Signed links and file serving (issue 5 §2, docs/architecture.md): every way of
 * bending a link is refused with one identical 403, deletion revokes links at
 * once, and served files carry the isolation headers and honour Range/HEAD.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuthContext } from "../../worker/auth/types";
import { securityLog, tombstones, users } from "../../worker/db/schema";
import { countSecurityEvents } from "../../worker/services/security-log";
import { issueSignedUrl, signLink, type Disposition } from "../../worker/services/signed-links";
import { deleteObjects, putObject } from "../../worker/services/storage";
import { API, api, expectProblem, services, signIn, signedInUsers } from "../helpers";
import { auditRows, insertGeneration } from "./fixtures";

const nowSec = () => Math.floor(Date.now() / 1000);

function authFor(userId: string): AuthContext {
  return { userId, externalId: "", via: "session", actorId: userId, scopes: null, isAdmin: false };
}

const meta = { requestId: "req_test", ipPrefix: null, userAgent: null };

/** A path+query for a link, signed with the real ring unless told otherwise. */
async function linkPath(objectId: string, ownerId: string, opts: { disp?: Disposition; exp?: number; kid?: string } = {}): Promise<string> {
  const s = services();
  const disposition = opts.disp ?? "inline";
  const exp = opts.exp ?? nowSec() + 600;
  const { kid, sig } = await signLink(s.config.URL_SIGNING_KEYS, { objectId, ownerId, exp, disposition }, opts.kid);
  return `/v1/files/${objectId}?${new URLSearchParams({ exp: String(exp), disp: disposition, kid, sig })}`;
}

function withParam(path: string, name: string, value: string): string {
  const url = new URL(path, API);
  url.searchParams.set(name, value);
  return url.pathname + url.search;
}

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

const signedIn = signedInUsers("alice", "bob");
const small = random(5000);
const large = random(2_300_000); // three 1 MiB segments (DEFAULT_SEGMENT_SHIFT)
let smallId = "";
let largeId = "";

beforeAll(async () => {
  const s = services();
  smallId = (await putObject(s, { userId: signedIn.alice, kind: "output", contentType: "image/png", bytes: small, width: 64, height: 64 })).id;
  largeId = (await putObject(s, { userId: signedIn.alice, kind: "photo", contentType: "image/jpeg", bytes: large, width: 300, height: 300 })).id;
});

/** Refusals must be indistinguishable: same status, code, title and detail. */
async function expectRefused(res: Response): Promise<void> {
  const body = await expectProblem(res, 403, "link_invalid");
  expect(body["title"]).toBe("This link is invalid or has expired");
  expect(body["detail"]).toBeUndefined();
  expect(res.headers.get("cache-control")).toBe("no-store");
}

describe("signed links: happy", () => {
  it("issueSignedUrl returns a working URL with its expiry and audits link.issued", async () => {
    const s = services();
    const before = (await auditRows(signedIn.alice)).length;
    const { url, expiresAt } = await issueSignedUrl(s, { auth: authFor(signedIn.alice), objectId: smallId, disposition: "inline", meta });
    expect(url.startsWith(`${s.config.PUBLIC_API_URL}/v1/files/${smallId}?`)).toBe(true);
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(s.config.SIGNED_URL_TTL_SECONDS * 1000);
    const rows = await auditRows(signedIn.alice);
    expect(rows.length).toBe(before + 1);
    expect(rows[rows.length - 1]).toMatchObject({ action: "link.issued", actorType: "user", actorId: signedIn.alice, targetId: smallId });
    expect(rows[rows.length - 1]?.detail).not.toContain(new URL(url).searchParams.get("sig") ?? "@@");

    const u = new URL(url);
    const res = await api(u.pathname + u.search);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(small);
  });

  it("serves the decrypted bytes inline with the isolation headers, and audits link.used", async () => {
    const res = await api(await linkPath(smallId, signedIn.alice));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-length")).toBe(String(small.length));
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBe("sandbox");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("content-disposition")).toBe(`inline; filename="babypic-output-${smallId.slice(-8)}.png"`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(small);
    const last = (await auditRows(signedIn.alice)).at(-1);
    expect(last).toMatchObject({ action: "link.used", actorType: "user", actorId: null, targetId: smallId });
  });

  it("attachment: Content-Disposition attachment, audited as link.used and file.downloaded", async () => {
    const res = await api(await linkPath(largeId, signedIn.alice, { disp: "attachment" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="babypic-photo-${largeId.slice(-8)}.jpg"`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(large);
    const rows = await auditRows(signedIn.alice);
    expect(rows.slice(-2).map((r) => r.action)).toEqual(["link.used", "file.downloaded"]);
  });

  it("a link signed with a previous key id still verifies while that key is in the ring", async () => {
    const ring = services().config.URL_SIGNING_KEYS;
    const old = Object.keys(ring.keys).find((k) => k !== ring.current);
    expect(old).toBeDefined();
    const res = await api(await linkPath(smallId, signedIn.alice, { kid: old }));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

describe("signed links: a gallery loading at once", () => {
  it("twelve links fetched in parallel all succeed, each audited once in one unbroken chain", async () => {
    const before = (await auditRows(signedIn.alice)).length;
    const paths = await Promise.all(Array.from({ length: 12 }, () => linkPath(smallId, signedIn.alice)));
    const responses = await Promise.all(paths.map((p) => api(p)));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    const { loadChain, verifyChain } = await import("../../worker/services/audit");
    // The chain is verified over the stored (sealed) entries, as npm run audit:verify does.
    const rows = await loadChain(services().db, signedIn.alice);
    expect(rows.length - before).toBe(12);
    expect((await verifyChain(rows)).ok).toBe(true);
  });
});

describe("signed links: Range and HEAD", () => {
  it.each([
    ["bytes=0-9", 0, 9],
    ["bytes=100-", 100, 2_299_999],
    ["bytes=-500", 2_299_500, 2_299_999],
    ["bytes=1048570-1048585", 1_048_570, 1_048_585], // across the first segment boundary (1 MiB)
    ["bytes=2097140-2097160", 2_097_140, 2_097_160], // across the second
    ["bytes=2299990-3000000", 2_299_990, 2_299_999], // end clamped
  ])("%s: 206 with the exact slice", async (range, start, end) => {
    const res = await api(await linkPath(largeId, signedIn.alice), { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${large.length}`);
    expect(res.headers.get("content-length")).toBe(String(end - start + 1));
    expect(res.headers.get("content-security-policy")).toBe("sandbox");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(large.slice(start, end + 1));
  });

  it.each(["bytes=0-1,5-6", "bytes=abc", "items=0-5", "bytes=9-3", "bytes=-"])("%s is ignored: 200 with the whole file", async (range) => {
    const res = await api(await linkPath(smallId, signedIn.alice), { headers: { range } });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(small);
  });

  it.each(["bytes=5000-", "bytes=9999-10000", "bytes=-0"])("%s: 416 with Content-Range bytes */size", async (range) => {
    const res = await api(await linkPath(smallId, signedIn.alice), { headers: { range } });
    await expectProblem(res, 416, "range_not_satisfiable");
    expect(res.headers.get("content-range")).toBe(`bytes */${small.length}`);
  });

  it("HEAD: headers and length, no body", async () => {
    const res = await api(await linkPath(smallId, signedIn.alice), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-length")).toBe(String(small.length));
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.headers.get("content-security-policy")).toBe("sandbox");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    expect((await auditRows(signedIn.alice)).at(-1)?.detail).toContain('"method":"HEAD"');
  });

  it("HEAD with a range: 206 and the range's length", async () => {
    const res = await api(await linkPath(smallId, signedIn.alice), { method: "HEAD", headers: { range: "bytes=10-19" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 10-19/${small.length}`);
    expect(res.headers.get("content-length")).toBe("10");
  });

  it("HEAD with a bad link is refused like GET", async () => {
    const path = withParam(await linkPath(smallId, signedIn.alice), "disp", "attachment");
    const res = await api(path, { method: "HEAD" });
    expect(res.status).toBe(403);
  });
});

describe("signed links: refused (one identical 403)", () => {
  it("expired", async () => {
    await expectRefused(await api(await linkPath(smallId, signedIn.alice, { exp: nowSec() - 1 })));
  });

  it("exp pushed forward on a valid link", async () => {
    const path = await linkPath(smallId, signedIn.alice);
    const exp = Number(new URL(path, API).searchParams.get("exp"));
    await expectRefused(await api(withParam(path, "exp", String(exp + 60))));
  });

  it("exp further ahead than the TTL, even when correctly signed", async () => {
    const ttl = services().config.SIGNED_URL_TTL_SECONDS;
    await expectRefused(await api(await linkPath(smallId, signedIn.alice, { exp: nowSec() + ttl + 120 })));
    await expectRefused(await api(await linkPath(smallId, signedIn.alice, { exp: nowSec() + 86_400 * 365 })));
  });

  it("one signature character flipped", async () => {
    const path = await linkPath(smallId, signedIn.alice);
    const sig = new URL(path, API).searchParams.get("sig") ?? "";
    const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
    await expectRefused(await api(withParam(path, "sig", flipped)));
  });

  it("a valid signature moved to another object id", async () => {
    const path = await linkPath(smallId, signedIn.alice);
    await expectRefused(await api(path.replace(smallId, largeId)));
  });

  it("other disposition than signed", async () => {
    await expectRefused(await api(withParam(await linkPath(smallId, signedIn.alice, { disp: "inline" }), "disp", "attachment")));
  });

  it("other key id than signed, and an unknown key id", async () => {
    const ring = services().config.URL_SIGNING_KEYS;
    const other = Object.keys(ring.keys).find((k) => k !== ring.current) ?? "x";
    const path = await linkPath(smallId, signedIn.alice);
    await expectRefused(await api(withParam(path, "kid", other)));
    await expectRefused(await api(withParam(path, "kid", "retired-key")));
  });

  it("a link signed for another owner (bob signing alice's object id)", async () => {
    const { url } = await issueSignedUrl(services(), { auth: authFor(signedIn.bob), objectId: smallId, meta });
    const u = new URL(url);
    await expectRefused(await api(u.pathname + u.search));
  });

  it.each([
    ["no query", ""],
    ["missing sig", "?exp=9999999999&disp=inline&kid=url-test-2"],
    ["bad disp", "?exp=9999999999&disp=evil&kid=url-test-2&sig=" + "A".repeat(43)],
    ["exp not a number", "?exp=soon&disp=inline&kid=url-test-2&sig=" + "A".repeat(43)],
    ["huge exp", "?exp=99999999999999999999&disp=inline&kid=url-test-2&sig=" + "A".repeat(43)],
  ])("malformed (%s)", async (_label, query) => {
    await expectRefused(await api(`/v1/files/${smallId}${query}`));
  });

  it("an object id that never existed answers exactly like a forged link for a real one", async () => {
    const ghost = "img_00000000000000000000000000000000";
    const a = await api(await linkPath(ghost, signedIn.alice));
    const b = await api(withParam(await linkPath(smallId, signedIn.alice), "disp", "attachment"));
    const [ba, bb] = [await a.json<Record<string, unknown>>(), await b.json<Record<string, unknown>>()];
    expect(a.status).toBe(b.status);
    expect({ ...ba, requestId: "", instance: "" }).toEqual({ ...bb, requestId: "", instance: "" });
  });

  it("refusals are in the security log with a reason and without the signature", async () => {
    const since = Date.now() - 60_000;
    const path = await linkPath(smallId, signedIn.alice);
    const sig = new URL(path, API).searchParams.get("sig") ?? "";
    await api(withParam(path, "disp", "attachment"));
    await api(await linkPath(smallId, signedIn.alice, { exp: nowSec() - 5 }));
    const rows = await services().db.select().from(securityLog).where(eq(securityLog.userId, signedIn.alice)).all();
    const details = rows.map((r) => r.detail ?? "");
    expect(details.some((d) => d.includes('"reason":"bad-signature"'))).toBe(true);
    expect(details.some((d) => d.includes('"reason":"expired"'))).toBe(true);
    for (const r of rows) {
      expect(r.detail ?? "").not.toContain(sig);
      expect(r.detail ?? "").not.toContain("sig=");
    }
    const counts = await countSecurityEvents(services().db, { since });
    expect(counts.find((c) => c.kind === "signature_failed")?.count ?? 0).toBeGreaterThanOrEqual(1);
    expect(counts.find((c) => c.kind === "link_refused")?.count ?? 0).toBeGreaterThanOrEqual(1);
  });

  it("refusals write nothing to the owner's audit log", async () => {
    const before = (await auditRows(signedIn.alice)).length;
    await api(withParam(await linkPath(smallId, signedIn.alice), "disp", "attachment"));
    expect((await auditRows(signedIn.alice)).length).toBe(before);
  });
});

describe("signed links: revocation by deletion", () => {
  it("deleting the object kills its live links at once", async () => {
    const s = services();
    const id = (await putObject(s, { userId: signedIn.alice, kind: "output", contentType: "image/png", bytes: random(100) })).id;
    const path = await linkPath(id, signedIn.alice);
    const ok = await api(path);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    expect(await deleteObjects(s, signedIn.alice, [id])).toBe(1);
    await expectRefused(await api(path));
  });

  it("an account mid-deletion (tombstone written) kills its links at once", async () => {
    const s = services();
    const dave = await signIn("dave");
    const id = (await putObject(s, { userId: dave, kind: "output", contentType: "image/png", bytes: random(100) })).id;
    const path = await linkPath(id, dave);
    const ok = await api(path);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const now = Date.now();
    await s.db.insert(tombstones).values({ userId: dave, externalId: "user_local_dave", stage: "started", createdAt: now, updatedAt: now });
    await expectRefused(await api(path));
    await s.db.delete(tombstones).where(eq(tombstones.userId, dave));
  });

  it("DELETE of the account (the real deletion service) kills its links, including when interrupted right after it starts", async () => {
    const s = services();
    const { deleteAccount } = await import("../../worker/services/deletion");
    for (const [name, interrupt] of [["frank", false], ["gina", true]] as const) {
      const owner = await signIn(name);
      const id = (await putObject(s, { userId: owner, kind: "output", contentType: "image/png", bytes: random(100) })).id;
      const path = await linkPath(id, owner);
      const ok = await api(path);
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      const run = deleteAccount(s, owner, {
        source: "user",
        afterStage: (stage) => {
          if (interrupt && stage === "started") throw new Error("simulated crash");
        },
      });
      // An interrupted deletion reports `pending` and leaves its tombstone for the sweep.
      expect((await run)?.status).toBe(interrupt ? "pending" : "deleted");
      await expectRefused(await api(path));
    }
  });

  it("a deleted account's links are refused even if an object row were left behind", async () => {
    const s = services();
    const erin = await signIn("erin");
    const id = (await putObject(s, { userId: erin, kind: "photo", contentType: "image/jpeg", bytes: random(100) })).id;
    const path = await linkPath(id, erin);
    await s.db.delete(users).where(eq(users.id, erin));
    await expectRefused(await api(path));
  });
});

describe("signed links in API responses", () => {
  async function fetchUrl(url: string): Promise<Response> {
    const u = new URL(url);
    return api(u.pathname + u.search);
  }

  it("photo list and photo detail carry working thumbnail links, audited as link.issued", async () => {
    const list = await api("/v1/photos", { user: "alice" });
    expect(list.status).toBe(200);
    const { photos } = await list.json<{ photos: { id: string; url: string | null; urlExpiresAt: string | null }[] }>();
    const listed = photos.find((p) => p.id === largeId);
    expect(listed?.url).toBeTruthy();
    expect(Date.parse(listed?.urlExpiresAt ?? "")).toBeGreaterThan(Date.now());
    const img = await fetchUrl(listed?.url ?? "");
    expect(img.status).toBe(200);
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(large);

    const one = await api(`/v1/photos/${largeId}`, { user: "alice" });
    const photo = await one.json<{ url: string }>();
    const inline = await fetchUrl(photo.url);
    expect(inline.headers.get("content-disposition")).toMatch(/^inline; /);
    await inline.arrayBuffer();
    const actions = (await auditRows(signedIn.alice)).map((r) => r.action);
    expect(actions.filter((a) => a === "link.issued").length).toBeGreaterThanOrEqual(2);
  });

  it("a generation's outputs carry working links for the owner only", async () => {
    const s = services();
    const gen = await insertGeneration(signedIn.alice, "completed");
    const bytes = random(3000);
    const out = await putObject(s, { userId: signedIn.alice, kind: "output", contentType: "image/png", bytes, generationId: gen, width: 64, height: 64 });
    const res = await api(`/v1/generations/${gen}`, { user: "alice" });
    expect(res.status).toBe(200);
    const body = await res.json<{ outputs: { id: string; url: string | null }[] }>();
    const output = body.outputs.find((o) => o.id === out.id);
    expect(output?.url).toBeTruthy();
    const img = await fetchUrl(output?.url ?? "");
    expect(img.status).toBe(200);
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(bytes);
    await expectProblem(await api(`/v1/generations/${gen}`, { user: "bob" }), 404, "not_found");
  });
});
