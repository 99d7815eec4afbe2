import { clientAddress } from "./client-address";

/** Client metadata kept in logs, minimised: IPs truncated to /24 or /48. */
export function truncateIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  if (ip.includes(".") && !ip.includes(":")) {
    const parts = ip.split(".");
    if (parts.length !== 4) return null;
    return `${parts[0]}.${parts[1]}.${parts[2]}.0/24`;
  }
  if (ip.includes(":")) {
    const [head] = ip.split("::");
    const groups = (head ?? "").split(":").filter(Boolean);
    while (groups.length < 3) groups.push("0");
    return `${groups.slice(0, 3).join(":")}::/48`;
  }
  return null;
}

export interface RequestMeta {
  requestId: string | null;
  ipPrefix: string | null;
  userAgent: string | null;
}

export function requestMeta(req: Request, requestId: string | null): RequestMeta {
  const ua = req.headers.get("user-agent");
  return {
    requestId,
    ipPrefix: truncateIp(clientAddress(req)),
    userAgent: ua ? ua.slice(0, 200) : null,
  };
}
