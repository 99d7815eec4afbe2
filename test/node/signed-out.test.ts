/**
 * After a sign-out no signed-in request leaves the SPA without its token
 * (web/src/lib/api/signed-in-token.ts): the typed API client every page uses
 * (web/src/lib/api/client.ts, through useApi) and the photo upload
 * (web/src/features/photos/api.ts) reject with SignedOut and send nothing. A
 * query still polling after the idle sign-out used to go out bare and get a
 * 401; the browser journey is test/e2e/session-guards.test.mjs.
 * It reaches the SPA's DOM code, so web/tsconfig.json typechecks it, not the
 * Worker's tsconfig.json.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { UploadKey } from "../../web/src/features/photos/api";

const API = "http://api.test";

/** Every request the page would send: fetch (the typed client) and XMLHttpRequest (the upload). */
function recordRequests() {
  const sent: { url: string; authorization: string | null }[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    sent.push({ url: request.url, authorization: request.headers.get("authorization") });
    return Response.json({ items: [] });
  });
  class RecordingXhr {
    readonly upload = {};
    private url = "";
    private readonly headers = new Map<string, string>();
    timeout = 0;
    withCredentials = false;
    responseType = "";
    status = 201;
    responseText = "";
    onload: (() => void) | null = null;
    open(_method: string, url: string) {
      this.url = url;
    }
    setRequestHeader(name: string, value: string) {
      this.headers.set(name.toLowerCase(), value);
    }
    send() {
      sent.push({ url: this.url, authorization: this.headers.get("authorization") ?? null });
      this.responseText = JSON.stringify({ id: `pho_${"0".repeat(32)}`, width: 512, height: 512 });
      queueMicrotask(() => this.onload?.());
    }
  }
  vi.stubGlobal("XMLHttpRequest", RecordingXhr);
  return sent;
}

/** The SPA's modules, loaded as a build pointing at API (config.ts reads VITE_API_URL once, at import). */
async function spa() {
  vi.resetModules();
  vi.stubEnv("VITE_API_URL", API);
  const [{ createApiClient }, { sealAndUpload }, { SignedOut }] = await Promise.all([
    import("../../web/src/lib/api/client"),
    import("../../web/src/features/photos/api"),
    import("../../web/src/lib/api/problem"),
  ]);
  return { createApiClient, sealAndUpload, SignedOut };
}

const { publicKey } = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
const publicJwk = await crypto.subtle.exportKey("jwk", publicKey);
const uploadKey = {
  envelopeVersion: 1,
  keyId: "hpke-test-1",
  maxUploadBytes: 1_000_000,
  publicKey: { crv: "P-256", kid: "hpke-test-1", kty: "EC", use: "enc", x: String(publicJwk.x), y: String(publicJwk.y) },
} as UploadKey;
const signedOut = async (): Promise<string | null> => null;
const signedIn = async (): Promise<string | null> => "session-token";

let sent: ReturnType<typeof recordRequests>;
beforeEach(() => {
  sent = recordRequests();
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

describe("signed-in calls without a token: security", () => {
  it("the API client rejects with SignedOut and sends nothing, for reads and writes alike", async () => {
    const { createApiClient, SignedOut } = await spa();
    const onUnauthorized = vi.fn();
    const api = createApiClient({ getToken: signedOut, onUnauthorized });
    await expect(api.GET("/v1/me/support-sessions")).rejects.toBeInstanceOf(SignedOut);
    await expect(api.POST("/v1/me/support-sessions/{id}/end", { params: { path: { id: "sup_1" } } })).rejects.toBeInstanceOf(SignedOut);
    expect(sent).toEqual([]);
    // Nothing was refused by the API, so nothing signs out a second time.
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("a token that goes away between two polls stops the second one before it is sent", async () => {
    const { createApiClient, SignedOut } = await spa();
    let token: string | null = "session-token";
    const api = createApiClient({ getToken: async () => token });
    await api.GET("/v1/me/support-sessions");
    token = null;
    await expect(api.GET("/v1/me/support-sessions")).rejects.toBeInstanceOf(SignedOut);
    expect(sent).toEqual([{ url: `${API}/v1/me/support-sessions`, authorization: "Bearer session-token" }]);
  });

  it("the photo upload rejects with SignedOut and sends nothing", async () => {
    const { sealAndUpload, SignedOut } = await spa();
    const upload = sealAndUpload({
      bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
      userId: `usr_${"0".repeat(32)}`,
      getKey: async () => uploadKey,
      getToken: signedOut,
    });
    await expect(upload).rejects.toBeInstanceOf(SignedOut);
    expect(sent).toEqual([]);
  });
});

describe("signed-in calls with a token: happy path", () => {
  it("the API client and the upload send the session's bearer token", async () => {
    const { createApiClient, sealAndUpload } = await spa();
    await createApiClient({ getToken: signedIn }).GET("/v1/me/support-sessions");
    await sealAndUpload({ bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), userId: `usr_${"0".repeat(32)}`, getKey: async () => uploadKey, getToken: signedIn });
    expect(sent).toEqual([
      { url: `${API}/v1/me/support-sessions`, authorization: "Bearer session-token" },
      { url: `${API}/v1/photos`, authorization: "Bearer session-token" },
    ]);
  });

  it("the public client needs no token", async () => {
    const { createApiClient } = await spa();
    await createApiClient().GET("/v1/health");
    expect(sent).toEqual([{ url: `${API}/v1/health`, authorization: null }]);
  });
});
