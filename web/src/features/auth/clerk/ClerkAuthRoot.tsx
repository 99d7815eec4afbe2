/**
 * Clerk's React SDK, loaded only when VITE_CLERK_PUBLISHABLE_KEY is set. It
 * loads clerk-js from Clerk's Frontend API: the one third-party script the
 * app allows (docs/architecture.md, Headers and browser), named in the CSP by the build.
 */
import { ClerkProvider, SignIn, useAuth as useClerkAuth, UserProfile, useReverification, useUser } from "@clerk/clerk-react";
import { isReverificationCancelledError } from "@clerk/clerk-react/errors";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, type ReactNode } from "react";
import { Outlet, useNavigate } from "react-router";
import { ApiError, isReverificationRequired, StepUpCancelled } from "../../../lib/api/problem";
import { CLERK_PUBLISHABLE_KEY } from "../../../lib/config";
import { AuthContext, type Auth } from "../context";

function ClerkSignIn() {
  return <SignIn routing="path" path="/sign-in" forceRedirectUrl="/app" />;
}

/** Clerk's UserProfile; its Security page (/app/profile/security) turns two-factor on or off. */
function ClerkProfile() {
  return <UserProfile routing="path" path="/app/profile" />;
}

function ClerkBridge({ children }: { children: ReactNode }) {
  const { isLoaded, isSignedIn, userId, getToken, signOut } = useClerkAuth();
  const { user } = useUser();
  const queryClient = useQueryClient();
  const token = useCallback(() => getToken(), [getToken]);
  // Clear the cache once the session is gone, so nothing refetched in between
  // (with the still valid token) outlives the sign-out; from then on getToken()
  // gives null and signed-in calls throw SignedOut (lib/api/signed-in-token.ts).
  const out = useCallback(async () => {
    try {
      await signOut();
    } finally {
      queryClient.clear();
    }
  }, [queryClient, signOut]);
  // A sign-out that did not go through out(): another tab, Clerk's own UI, or
  // the session ending at Clerk. Drop the user's cached data and the queries
  // that would keep polling.
  // The query keys do not name the user, so a switch straight from one
  // account to another (Clerk syncing tabs) drops the cache too.
  const lastUser = useRef<string | null>(null);
  useEffect(() => {
    if (!isLoaded) return;
    const current = isSignedIn ? (userId ?? null) : null;
    if (lastUser.current !== null && lastUser.current !== current) queryClient.clear();
    lastUser.current = current;
  }, [isLoaded, isSignedIn, userId, queryClient]);
  // useReverification() recognises the `clerk_error` hint the API puts in its
  // 403 reverification_required body, opens Clerk's verification modal and
  // calls the fetcher once more. One fetcher runs any task handed to it.
  const verified = useReverification(async (task: () => Promise<unknown>) => {
    try {
      return { done: true as const, value: await task() };
    } catch (err) {
      if (isReverificationRequired(err)) return err.body;
      throw err;
    }
  });
  const stepUp = useCallback(
    async <T,>(task: () => Promise<T>): Promise<T> => {
      let result: unknown;
      try {
        result = await verified(task);
      } catch (err) {
        if (isReverificationCancelledError(err)) throw new StepUpCancelled();
        throw err;
      }
      if (typeof result === "object" && result !== null && "done" in result && "value" in result) return result.value as T;
      // Verified, but the API still asks (e.g. a clock far off): show its answer.
      throw new ApiError(403, result);
    },
    [verified],
  );
  const onUnauthorized = useCallback(() => {
    // Clerk refreshes its short-lived tokens itself; a 401 means the session
    // is gone server-side, so end it here too.
    void out();
  }, [out]);
  const auth = useMemo<Auth>(
    () => ({
      provider: "clerk",
      status: !isLoaded ? "loading" : isSignedIn ? "signed-in" : "signed-out",
      displayName: user?.primaryEmailAddress?.emailAddress ?? user?.fullName ?? null,
      getToken: token,
      signOut: out,
      onUnauthorized,
      SignInPanel: ClerkSignIn,
      stepUp,
      twoFactor: { enabled: user ? user.twoFactorEnabled : null, manageHref: "/app/profile/security" },
      ProfilePanel: ClerkProfile,
    }),
    [isLoaded, isSignedIn, user, token, out, onUnauthorized, stepUp],
  );
  return <AuthContext value={auth}>{children}</AuthContext>;
}

export default function ClerkAuthRoot() {
  const navigate = useNavigate();
  if (!CLERK_PUBLISHABLE_KEY) throw new Error("ClerkAuthRoot needs VITE_CLERK_PUBLISHABLE_KEY");
  return (
    <ClerkProvider
      publishableKey={CLERK_PUBLISHABLE_KEY}
      routerPush={(to) => void navigate(to)}
      routerReplace={(to) => void navigate(to, { replace: true })}
      afterSignOutUrl="/"
    >
      <ClerkBridge>
        <Outlet />
      </ClerkBridge>
    </ClerkProvider>
  );
}
