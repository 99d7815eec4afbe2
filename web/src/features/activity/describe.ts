import type { components } from "../../lib/api/schema";

type AuditEntry = components["schemas"]["AuditEntry"];

/** "Chrome on Android", or a short form of anything else (curl, an SDK); null when absent. */
export function describeUserAgent(ua: string | null): string | null {
  if (!ua) return null;
  const browser =
    /Edg\//.test(ua) ? "Edge"
    : /OPR\//.test(ua) ? "Opera"
    : /Firefox\//.test(ua) ? "Firefox"
    : /Chrom(e|ium)\//.test(ua) ? "Chrome"
    : /Safari\//.test(ua) ? "Safari"
    : null;
  const os =
    /Android/.test(ua) ? "Android"
    : /iPhone|iPad|iPod/.test(ua) ? "iOS"
    : /Windows/.test(ua) ? "Windows"
    : /Mac OS X|Macintosh/.test(ua) ? "macOS"
    : /CrOS/.test(ua) ? "ChromeOS"
    : /Linux/.test(ua) ? "Linux"
    : null;
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  const first = ua.split(/[\s(]/)[0] ?? ua;
  return first.length > 40 ? `${first.slice(0, 40)}…` : first;
}

export const ACTOR_LABELS: Record<AuditEntry["actor"]["type"], string> = {
  user: "You",
  api_key: "API key",
  system: "BabyPic",
  support: "Support",
};

/** Who did it, for the badge: a link holder has no id (anyone holding a private link). */
export function actorLabel(e: AuditEntry): string {
  if (e.actor.type === "user" && e.actor.id === null) return "Private link";
  return ACTOR_LABELS[e.actor.type];
}
