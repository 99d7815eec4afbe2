/**
 * SSRF guard for integrator-chosen webhook targets (docs/decisions/0016-outgoing-webhooks.md).
 * A target is https (http://127.0.0.1 only in development), carries no
 * credentials, and its host is neither an IP literal in a non-public range nor
 * a name that resolves (DNS-over-HTTPS, Cloudflare's resolver) to any such
 * address. Checked at registration and again before every delivery, since
 * DNS can change. Pure parts return a tagged reason; the caller decides the wording.
 */
import { z } from "zod";

export type TargetRefusal = "invalid_url" | "scheme" | "credentials" | "private_address" | "unresolvable" | "resolver_unavailable";
export type TargetCheck = { ok: true; url: URL } | { ok: false; reason: TargetRefusal };

export const DOH_URL = "https://cloudflare-dns.com/dns-query";

/** IPv4 dotted quad -> 32-bit number, or null. */
function parseIPv4(host: string): number | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** IPv6 text (no brackets, no zone) -> 8 hextets, or null. Accepts an embedded dotted IPv4 tail. */
function parseIPv6(host: string): number[] | null {
  let text = host.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = parseIPv4(v4[1]);
    if (n === null) return null;
    text = `${text.slice(0, -v4[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const toGroups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = toGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? toGroups(halves[1] ?? "") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    out.push(parseInt(g, 16));
  }
  return out;
}

const V4_BLOCKED: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8], // private (RFC 1918)
  ["100.64.0.0", 10], // CGNAT (RFC 6598)
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata lives here)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and broadcast
];

function v4Blocked(n: number): boolean {
  return V4_BLOCKED.some(([base, bits]) => {
    const b = parseIPv4(base) ?? 0;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return ((n & mask) >>> 0) === ((b & mask) >>> 0);
  });
}

/**
 * Only global unicast (2000::/3) is allowed, minus the special blocks inside
 * it (RFC 6890 registry): so ::1, ::, IPv4-mapped/compatible, NAT64, ULA
 * (fc00::/7), link-local (fe80::/10) and multicast (ff00::/8) are all refused.
 */
function v6Blocked(g: number[]): boolean {
  const [a = 0, b = 0] = g;
  if ((a & 0xe000) !== 0x2000) return true;
  if (a === 0x2001 && b < 0x0200) return true; // 2001::/23 IETF protocol (Teredo, ORCHID, ...)
  if (a === 0x2001 && b === 0x0db8) return true; // documentation
  if (a === 0x2002) return true; // 6to4 (embeds any IPv4)
  if ((a & 0xfff0) === 0x3ff0) return true; // 3fff::/20 documentation
  return false;
}

/** Whether an IP literal (v4 or v6, brackets allowed) is outside the public unicast space. null: not an IP literal. */
export function isBlockedAddress(host: string): boolean | null {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const v4 = parseIPv4(bare);
  if (v4 !== null) return v4Blocked(v4);
  if (bare.includes(":")) {
    const v6 = parseIPv6(bare.split("%")[0] ?? "");
    return v6 === null ? true : v6Blocked(v6);
  }
  return null;
}

/** Static checks (no network): scheme, credentials, IP-literal hosts. */
export function checkTargetSyntax(raw: string, environment: string): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "invalid_url" };
  }
  if (url.username || url.password) return { ok: false, reason: "credentials" };
  // Local testing only: a receiver on this machine over plain http.
  if (environment === "development" && url.protocol === "http:" && url.hostname === "127.0.0.1") return { ok: true, url };
  if (url.protocol !== "https:") return { ok: false, reason: "scheme" };
  const literal = isBlockedAddress(url.hostname);
  if (literal === true) return { ok: false, reason: "private_address" };
  // Numeric forms URL parsing did not normalise (e.g. a bare integer host) never reach the resolver.
  if (literal === null && /^[\d.]+$/.test(url.hostname)) return { ok: false, reason: "invalid_url" };
  return { ok: true, url };
}

const DohAnswer = z.object({
  Status: z.number(),
  Answer: z.array(z.object({ type: z.number(), data: z.string() })).optional(),
});

/** A/AAAA addresses of `name` from Cloudflare's DNS-over-HTTPS JSON API; null when the resolver failed. */
async function resolve(name: string, type: "A" | "AAAA", fetcher: typeof fetch): Promise<string[] | null> {
  const url = `${DOH_URL}?name=${encodeURIComponent(name)}&type=${type}`;
  let res: Response;
  try {
    res = await fetcher(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(5000) });
  } catch {
    return null;
  }
  if (!res.ok) return null;
  const parsed = DohAnswer.safeParse(await res.json().catch(() => null));
  if (!parsed.success) return null;
  // NOERROR or NXDOMAIN are answers; SERVFAIL and the rest are resolver trouble.
  if (parsed.data.Status !== 0 && parsed.data.Status !== 3) return null;
  const want = type === "A" ? 1 : 28;
  return (parsed.data.Answer ?? []).filter((a) => a.type === want).map((a) => a.data);
}

/** Full check: syntax, then every A and AAAA address of a name must be public. */
export async function checkTarget(raw: string, environment: string, fetcher: typeof fetch = fetch): Promise<TargetCheck> {
  const syntax = checkTargetSyntax(raw, environment);
  if (!syntax.ok) return syntax;
  const host = syntax.url.hostname;
  if (isBlockedAddress(host) !== null) return syntax; // a public IP literal, or the development loopback
  const [a, aaaa] = await Promise.all([resolve(host, "A", fetcher), resolve(host, "AAAA", fetcher)]);
  if (a === null || aaaa === null) return { ok: false, reason: "resolver_unavailable" };
  const all = [...a, ...aaaa];
  if (all.length === 0) return { ok: false, reason: "unresolvable" };
  if (all.some((ip) => isBlockedAddress(ip) !== false)) return { ok: false, reason: "private_address" };
  return syntax;
}

export const REFUSAL_TEXT: Record<TargetRefusal, string> = {
  invalid_url: "The URL is not valid.",
  scheme: "Webhook URLs must use https.",
  credentials: "Webhook URLs must not contain a user name or password.",
  private_address: "The URL's host is, or resolves to, a private, loopback, link-local or reserved address.",
  unresolvable: "The URL's host name does not resolve.",
  resolver_unavailable: "The URL's host name could not be checked right now; try again.",
};
