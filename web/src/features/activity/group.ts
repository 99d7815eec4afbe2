/**
 * Turns raw activity-log entries into the events a person recognises ("You
 * made a baby picture", with the uploads, views and links of that moment
 * folded in), and pulls out the accesses by someone other than the user:
 * support staff, BabyPic reading their data, and private links opened from a
 * network none of the user's own requests came from. The raw entries stay
 * available (expanded on the page, and in the API and export).
 */
import type { components } from "../../lib/api/schema";

type AuditEntry = components["schemas"]["AuditEntry"];

export type ActorFilter = "all" | "you" | "support" | "babypic" | "link";
export type KindFilter = "all" | "pictures" | "photos" | "links" | "account" | "exports" | "log";

export const ACTOR_FILTERS: { value: ActorFilter; label: string }[] = [
  { value: "all", label: "Everyone" },
  { value: "you", label: "You and your API keys" },
  { value: "support", label: "Support staff" },
  { value: "babypic", label: "BabyPic processing" },
  { value: "link", label: "Private links" },
];

export const KIND_FILTERS: { value: KindFilter; label: string }[] = [
  { value: "all", label: "Everything" },
  { value: "pictures", label: "Baby pictures" },
  { value: "photos", label: "Parent photos" },
  { value: "links", label: "Links and downloads" },
  { value: "account", label: "Account, settings and access" },
  { value: "exports", label: "Data exports" },
  { value: "log", label: "This activity log" },
];

/** Entries of one person's moment are folded together while they follow each other within this. */
const GAP_MS = 10 * 60 * 1000;

export function actorOf(e: AuditEntry): Exclude<ActorFilter, "all"> {
  if (e.actor.type === "support") return "support";
  if (e.actor.type === "system") return "babypic";
  if (e.actor.type === "user" && e.actor.id === null) return "link";
  return "you";
}

export function kindOf(e: AuditEntry): Exclude<KindFilter, "all"> {
  const [family] = e.action.split(".");
  switch (family) {
    case "generation":
      return "pictures";
    case "photo":
    case "retention":
      return "photos";
    case "link":
    case "file":
      return "links";
    case "export":
      return "exports";
    case "audit":
      return "log";
    case "data":
      return e.target?.type === "export" ? "exports" : e.target?.type === "photo" ? "photos" : "pictures";
    default:
      return "account";
  }
}

/** Why an event is shown apart, first: someone other than the user touched their data. */
export type OtherActor = "support" | "babypic" | "new-network";

export const OTHER_LABELS: Record<OtherActor, string> = {
  support: "Support",
  babypic: "BabyPic processing",
  "new-network": "New network",
};

export interface ActivityEvent {
  key: string;
  title: string;
  /** Set for accesses by someone other than the user. */
  other: OtherActor | null;
  /** Plain sentences shown without expanding (never raw ids). */
  lines: string[];
  start: string;
  end: string;
  /** Oldest first. */
  entries: AuditEntry[];
}

const TITLES: [test: (actions: Set<string>) => boolean, title: (entries: AuditEntry[]) => string][] = [
  [(a) => a.has("account.deleted"), () => "Your account was deleted"],
  // A first visit often creates the account and makes a picture in the same moment: the title names both.
  [(a) => a.has("account.created"), (es) => (es.some((e) => e.action === "generation.created") ? `You created your account and ${madePictures(es)}` : "You created your account")],
  [(a) => a.has("generation.created"), (es) => `You ${madePictures(es)}`],
  [(a) => a.has("photo.uploaded"), () => "You uploaded photos"],
  [(a) => [...a].some((x) => x.startsWith("export.")), () => "You exported your data"],
  [(a) => [...a].some((x) => x.startsWith("billing.")), () => "You bought credits"],
  [(a) => a.has("api_key.created") || a.has("api_key.revoked") || [...a].some((x) => x.startsWith("webhook_endpoint.")), () => "You changed API access"],
  [(a) => a.has("consent.given") || a.has("consent.withdrawn") || a.has("settings.changed") || a.has("support.grant_changed"), () => "You changed your settings"],
  [(a) => a.has("photo.deleted") || a.has("generation.deleted"), () => "You deleted pictures or photos"],
  [(a) => a.has("file.downloaded"), () => "You downloaded pictures"],
  [(a) => a.has("retention.deleted"), () => "BabyPic deleted photos as your settings ask"],
  [(a) => a.has("generation.completed") || a.has("generation.failed") || a.has("generation.canceled"), () => "BabyPic finished your picture"],
  [(a) => a.has("api_key.used"), () => "Your API key used the API"],
  [(a) => [...a].some((x) => /^(generation|photo)\.(viewed|listed)$|^link\./.test(x)), () => "You looked at your pictures"],
  [(a) => a.has("audit.viewed"), () => "You opened your activity log"],
];

function madePictures(entries: AuditEntry[]): string {
  const n = entries.filter((e) => e.action === "generation.created").length;
  return n === 1 ? "made a baby picture" : `made ${n} baby pictures`;
}

function titleOf(entries: AuditEntry[]): string {
  const actions = new Set(entries.map((e) => e.action));
  for (const [test, title] of TITLES) if (test(actions)) return title(entries);
  return entries[0]?.summary ?? "Activity";
}

/** What the folded entries were, in a few words: "2 photos uploaded · 3 views · 1 download". */
function countsLine(entries: AuditEntry[]): string {
  const count = (pred: (e: AuditEntry) => boolean) => entries.filter(pred).length;
  const parts: [number, string, string][] = [
    [count((e) => e.action === "photo.uploaded"), "photo uploaded", "photos uploaded"],
    [count((e) => e.action === "generation.completed"), "picture finished", "pictures finished"],
    [count((e) => /\.(viewed|listed)$/.test(e.action) && e.action !== "audit.viewed"), "view", "views"],
    [count((e) => e.action === "link.issued"), "private link made", "private links made"],
    [count((e) => e.action === "link.used"), "link opened", "links opened"],
    [count((e) => e.action === "file.downloaded" || e.action === "export.downloaded"), "download", "downloads"],
    [count((e) => e.action === "api_key.used"), "API call", "API calls"],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, one, many]) => `${n} ${n === 1 ? one : many}`)
    .join(" · ");
}

/**
 * Groups `entries` (newest first, as the API answers) into events, newest
 * first: other actors' accesses first, then the user's own moments.
 */
export function groupActivity(entries: readonly AuditEntry[], filter: { actor: ActorFilter; kind: KindFilter } = { actor: "all", kind: "all" }): {
  others: ActivityEvent[];
  own: ActivityEvent[];
} {
  const oldestFirst = [...entries].reverse();
  // Networks the user's own signed-in requests came from, as of each entry.
  const known = new Set<string>();
  const classified = oldestFirst.map((e) => {
    const actor = actorOf(e);
    let other: OtherActor | null = null;
    if (actor === "support") other = "support";
    else if (actor === "babypic" && e.action === "data.read") other = "babypic";
    else if (actor === "link" && e.action !== "link.issued" && (e.ipPrefix === null || !known.has(e.ipPrefix))) other = "new-network";
    if (actor === "you" && e.ipPrefix) known.add(e.ipPrefix);
    return { e, other };
  });

  const shown = classified.filter(
    ({ e, other }) =>
      (filter.actor === "all" || actorOf(e) === filter.actor || (filter.actor === "link" && other === "new-network")) &&
      (filter.kind === "all" || kindOf(e) === filter.kind),
  );

  const others: ActivityEvent[] = [];
  const own: ActivityEvent[] = [];
  const at = (e: AuditEntry) => Date.parse(e.at);
  for (const { e, other } of shown) {
    if (other) {
      const last = others[others.length - 1];
      const prev = last?.entries[last.entries.length - 1];
      // BabyPic's reads for one job, or links opened from one new network, fold together; each support access stands alone.
      const same =
        last &&
        prev &&
        other !== "support" &&
        last.other === other &&
        at(e) - at(prev) <= GAP_MS &&
        (other === "babypic" ? prev.actor.id === e.actor.id : prev.ipPrefix === e.ipPrefix);
      if (same) {
        last.entries.push(e);
        last.end = e.at;
      } else {
        others.push({ key: e.id, title: "", other, lines: [], start: e.at, end: e.at, entries: [e] });
      }
      continue;
    }
    const lane = e.actor.type === "api_key" ? "key" : "you";
    const last = own[own.length - 1];
    const prev = last?.entries[last.entries.length - 1];
    const prevLane = prev?.actor.type === "api_key" ? "key" : "you";
    if (last && prev && prevLane === lane && at(e) - at(prev) <= GAP_MS) {
      last.entries.push(e);
      last.end = e.at;
    } else {
      own.push({ key: e.id, title: "", other: null, lines: [], start: e.at, end: e.at, entries: [e] });
    }
  }

  for (const ev of others) {
    const first = ev.entries[0];
    const n = ev.entries.length;
    if (ev.other === "support") {
      ev.title = "Support staff looked at your account";
      ev.lines = ev.entries.map((e) => e.summary);
    } else if (ev.other === "babypic") {
      ev.title = "BabyPic read your data";
      ev.lines = [...new Set(ev.entries.map((e) => e.summary))].map((s) => (n > 1 ? `${s} (${n} times)` : s));
    } else {
      ev.title = "A private link was opened from a network not seen before";
      ev.lines = [
        `${n === 1 ? "One of your private links was" : `Your private links were opened ${n} times,`} opened from network ${first?.ipPrefix ?? "unknown"}, which none of your own signed-in visits came from. If you did not share a link, it may have been copied.`,
      ];
    }
  }
  for (const ev of own) {
    ev.title = titleOf(ev.entries);
    const line = countsLine(ev.entries);
    ev.lines = line ? [line] : [];
  }
  return { others: others.reverse(), own: own.reverse() };
}
