/**
 * The client's network address, as the platform gives it to the Worker.
 *
 * Only `CF-Connecting-IP` is read. On Cloudflare (staging, production) the
 * edge sets it on every request from the internet to the address of the
 * connection, overwriting whatever a client sent; `X-Forwarded-For`,
 * `X-Real-IP` and the like are client-chosen and never read. Under
 * `wrangler dev` miniflare sets it from the socket when a request lacks one
 * (a local client may send its own: development only). Requests made inside
 * tests carry none unless the test sets it.
 *
 * A value that is not an IP literal counts as no address. Per-IP limits then
 * count the request on a key of its own (see `ipBucket`), never in a bucket
 * shared with every other address-less request (decision 0008).
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/** The eight 16-bit groups of an IPv6 literal (with an optional embedded IPv4 tail), or null. */
export function ipv6Groups(value: string): number[] | null {
  if (value.length > 45 || !value.includes(":")) return null;
  let text = value.toLowerCase();
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    if (!IPV4.test(maybeV4)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = maybeV4.split(".").map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, lastColon + 1) + "0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === "") return [];
    const parts = s.split(":");
    if (!parts.every((p) => HEX_GROUP.test(p))) return null;
    return parts.map((p) => parseInt(p, 16));
  };
  const head = parse(halves[0] ?? "");
  const rest = halves.length === 2 ? parse(halves[1] ?? "") : [];
  if (!head || !rest) return null;
  // The IPv4 tail replaced one placeholder group with two real ones.
  if (tail.length) (halves.length === 2 ? rest : head).pop();
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
}

/** The client's address if the platform gave a well-formed one, else null. */
export function clientAddress(req: Request): string | null {
  const raw = req.headers.get("cf-connecting-ip")?.trim();
  if (!raw) return null;
  if (IPV4.test(raw)) return raw;
  return ipv6Groups(raw) ? raw.toLowerCase() : null;
}

/**
 * The per-IP rate-limit bucket for a request. IPv4 counts per address; IPv6
 * per /64, the smallest block a client is usually given (RFC 6177), so one
 * host cannot multiply its budget by rotating addresses within its own
 * subnet. Without an address the request gets a bucket of its own, keyed by
 * its request id: it is never pooled with other address-less requests.
 */
export function ipBucket(req: Request, requestId: string): string {
  const addr = clientAddress(req);
  if (!addr) return `anon:${requestId}`;
  const groups = ipv6Groups(addr);
  if (!groups) return addr;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}
