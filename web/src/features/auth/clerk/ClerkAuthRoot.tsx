/**
 * Clerk's React SDK, loaded only when VITE_CLERK_PUBLISHABLE_KEY is set. It
 * loads clerk-js from Clerk's Frontend API: the one third-party script the
 * app allows (DESIGN.md, Headers and browser), named in the CSP by the build.
 */
import { ClerkProvider, SignIn, useAuth as useClerkAuth, useUser } from "@clerk/clerk-react";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, type ReactNode } from "react";
import { Outlet, useNavigate } from "react-router";
import { CLERK_PUBLISHABLE_KEY } from "../../../lib/config";
import { AuthContext, type Auth } from "../context";

function ClerkSignIn() {
  return <SignIn routing="path" path="/sign-in" forceRedirectUrl="/app" />;
}

function ClerkBridge({ children }: { children: ReactNode }) {
  const { isLoaded, isSignedIn, getToken, signOut } = useClerkAuth();
  const { user } = useUser();
  const queryClient = useQueryClient();
  const token = useCallback(() => getToken(), [getToken]);
  const out = useCallback(async () => {
    queryClient.clear();
    await signOut();
  }, [queryClient, signOut]);
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
    }),
    [isLoaded, isSignedIn, user, token, out, onUnauthorized],
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
