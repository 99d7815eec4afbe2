/**
 * Loads the auth provider only where it is needed (sign-in and the app), so
 * the landing page ships neither Clerk nor the local provider. When no Clerk
 * key is configured at build time the Clerk branch is dropped entirely.
 */
import { lazy, Suspense } from "react";
import { Loading } from "../../components/Loading";

// import.meta.env is replaced at build time, so without a key the bundler
// drops the Clerk branch (and its chunk) altogether.
const AuthRoot = lazy(() => (import.meta.env.VITE_CLERK_PUBLISHABLE_KEY ? import("./clerk/ClerkAuthRoot") : import("./local/LocalAuthRoot")));

export function AuthBoundary() {
  return (
    <Suspense fallback={<Loading label="Loading sign-in" />}>
      <AuthRoot />
    </Suspense>
  );
}
