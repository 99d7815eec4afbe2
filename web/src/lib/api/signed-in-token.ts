/**
 * The one way a signed-in call gets its token: the typed API client
 * (web/src/lib/api/client.ts) and the photo upload (web/src/features/photos/api.ts)
 * both ask here. Without a token the call throws SignedOut instead of going out
 * bare: after a sign-out (idle or not) a query that still polls, or a click
 * that races the redirect, must not reach the API as an anonymous request
 * (the 401 it would get also signs out again and leaves a console error).
 */
import { SignedOut } from "./problem";

export type TokenSource = () => Promise<string | null>;

/** The current session token; rejects with SignedOut when there is none. */
export async function signedInToken(getToken: TokenSource): Promise<string> {
  const token = await getToken();
  if (!token) throw new SignedOut();
  return token;
}
