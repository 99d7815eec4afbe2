/**
 * Local identity provider for the embedded development default (docs/architecture.md,
 * Identity). It signs RS256 JWTs in Clerk's session-token claim shape with a
 * key pair made at setup (`.dev.vars`), so tokens go through the very same
 * `verifyToken` path as Clerk's. The Worker only mounts it when
 * ENVIRONMENT=development, and the config check refuses to start when its
 * key is present anywhere else.
 *
 * Dependency-free on purpose: `scripts/token.mjs` imports it under Node too.
 */

export const LOCAL_ISSUER = "https://local-idp.babypic.invalid";

export const LOCAL_USERS = [
  { id: "alice", name: "Alice (local)", email: "alice@example.test" },
  { id: "bob", name: "Bob (local)", email: "bob@example.test" },
  { id: "carol", name: "Carol (local, admin)", email: "carol@example.test" },
] as const;

export type LocalUserId = (typeof LOCAL_USERS)[number]["id"];

export function localSubject(user: string): string {
  return `user_local_${user}`;
}

function b64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  let s = "";
  for (const b of raw) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function pemToDer(pem: string): ArrayBuffer {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const bin = atob(body);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

export interface LocalSessionOptions {
  privateKeyPem: string;
  user: string;
  /** Authorized party: the SPA origin the token is for. */
  azp: string;
  ttlSeconds?: number;
  nowSeconds?: number;
  /**
   * When the user last proved who they are (seconds). Clerk's `fva` claim
   * carries its age in minutes; default: now, i.e. `fva: [0, -1]`. The local
   * provider has no second factor, so the second entry is always -1.
   */
  verifiedAtSeconds?: number;
  /** Extra claims (tests use these to forge bad tokens). */
  claims?: Record<string, unknown>;
}

/** Signs a Clerk-shaped session JWT for a local user. */
export async function signLocalSession(opts: LocalSessionOptions): Promise<string> {
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const key = await crypto.subtle.importKey(
    "pkcs8",
    pemToDer(opts.privateKeyPem),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const header = { alg: "RS256", typ: "JWT", kid: "ins_local" };
  const known = LOCAL_USERS.find((u) => u.id === opts.user);
  const payload = {
    azp: opts.azp,
    exp: now + (opts.ttlSeconds ?? 3600),
    fva: [Math.max(0, Math.floor((now - (opts.verifiedAtSeconds ?? now)) / 60)), -1],
    iat: now,
    iss: LOCAL_ISSUER,
    nbf: now - 5,
    sid: `sess_local_${opts.user}_${now}`,
    sub: localSubject(opts.user),
    v: 2,
    ...(known ? { email: known.email } : {}),
    ...opts.claims,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(input));
  return `${input}.${b64url(new Uint8Array(sig))}`;
}
