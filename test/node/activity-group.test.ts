/**
 * The Activity page's grouping (web/src/features/activity/group.ts): raw
 * entries become events a person recognises, accesses by others come first
 * and are marked, and a private link opened from a network none of the
 * user's own requests came from is singled out.
 */
import { describe, expect, it } from "vitest";
import type { components } from "../../web/src/lib/api/schema";
import { groupActivity } from "../../web/src/features/activity/group";

type AuditEntry = components["schemas"]["AuditEntry"];

let seq = 0;
const T0 = Date.parse("2026-12-01T10:00:00Z");

function entry(minute: number, action: string, actor: AuditEntry["actor"], opts: { ip?: string | null; summary?: string; target?: AuditEntry["target"] } = {}): AuditEntry {
  seq++;
  return {
    id: `aud_${String(seq).padStart(32, "0")}`,
    seq,
    at: new Date(T0 + minute * 60_000).toISOString(),
    actor,
    action,
    target: opts.target ?? null,
    requestId: `req_${String(seq).padStart(32, "0")}`,
    ipPrefix: opts.ip === undefined ? "192.0.2.0/24" : opts.ip,
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
    detail: null,
    summary: opts.summary ?? `summary of ${action}`,
    stored: { ipPrefix: null, userAgent: null, detail: null },
    prevHash: "0".repeat(64),
    hash: "0".repeat(64),
  };
}

const you = { type: "user" as const, id: "usr_1", reason: null };
const link = { type: "user" as const, id: null, reason: null };
const system = (id: string) => ({ type: "system" as const, id, reason: null });
const support = { type: "support" as const, id: "usr_staff", reason: "Ticket 1" };

/** Newest first, as the API answers. */
function log(...entries: AuditEntry[]): AuditEntry[] {
  return entries.reverse();
}

describe("activity grouping (happy)", () => {
  it("folds a picture's uploads, generation, views and own link uses into one 'You made a baby picture' event", () => {
    const entries = log(
      entry(0, "photo.uploaded", you),
      entry(1, "photo.uploaded", you),
      entry(2, "generation.created", you),
      entry(3, "generation.completed", system("generation-pipeline")),
      entry(3, "generation.viewed", you),
      entry(3, "link.issued", you),
      entry(3, "link.used", link),
      entry(4, "file.downloaded", you),
    );
    const { others, own } = groupActivity(entries);
    expect(others).toEqual([]);
    expect(own.map((e) => [e.title, e.entries.length])).toEqual([["You made a baby picture", 8]]);
    expect(own[0]?.lines[0]).toBe("2 photos uploaded · 1 picture finished · 1 view · 1 private link made · 1 link opened · 1 download");
  });

  it("names both when the account was created and a picture made in the same moment", () => {
    const { own } = groupActivity(log(entry(0, "account.created", you), entry(1, "consent.given", you), entry(2, "photo.uploaded", you), entry(3, "generation.created", you)));
    expect(own.map((e) => e.title)).toEqual(["You created your account and made a baby picture"]);
  });

  it("starts a new event after a pause, newest first", () => {
    const { own } = groupActivity(log(entry(0, "account.created", you), entry(1, "consent.given", you), entry(60, "generation.listed", you), entry(200, "audit.viewed", you)));
    expect(own.map((e) => e.title)).toEqual(["You opened your activity log", "You looked at your pictures", "You created your account"]);
  });
});

describe("activity grouping (security)", () => {
  it("puts support, BabyPic's reads and a link opened from a new network first, marked; each support access apart", () => {
    const entries = log(
      entry(0, "generation.created", you, { ip: "192.0.2.0/24" }),
      entry(0, "data.read", system("generation-pipeline"), { summary: "BabyPic: Decrypted your two parent photos", target: { type: "generation", id: "gen_1" } }),
      entry(1, "link.used", link, { ip: "192.0.2.0/24" }),
      entry(2, "link.used", link, { ip: "198.51.100.0/24" }),
      entry(3, "support.accessed", support, { summary: "Support viewed your account summary because: Ticket 1" }),
      entry(4, "support.accessed", support, { summary: "Support viewed your photos (refused: you had not granted access) because: Ticket 1" }),
    );
    const { others, own } = groupActivity(entries);
    expect(others.map((e) => e.other)).toEqual(["support", "support", "new-network", "babypic"]);
    expect(others[2]?.lines[0]).toContain("198.51.100.0/24");
    expect(others[0]?.lines).toEqual(["Support viewed your photos (refused: you had not granted access) because: Ticket 1"]);
    // The link opened from the user's own network stays with the user's event.
    expect(own[0]?.entries.map((e) => e.action)).toEqual(["generation.created", "link.used"]);
  });

  it("filters by who and what before grouping", () => {
    const entries = log(entry(0, "settings.changed", you), entry(1, "support.accessed", support), entry(2, "generation.viewed", you));
    expect(groupActivity(entries, { actor: "support", kind: "all" }).own).toEqual([]);
    expect(groupActivity(entries, { actor: "support", kind: "all" }).others.map((e) => e.other)).toEqual(["support"]);
    expect(groupActivity(entries, { actor: "you", kind: "pictures" }).own.flatMap((e) => e.entries.map((x) => x.action))).toEqual(["generation.viewed"]);
  });
});
