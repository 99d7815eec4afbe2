/**
 * One auth interface for the app, whichever provider is behind it: Clerk's
 * React SDK when a publishable key is configured, else the local development
 * provider. Pages use useAuth() and useApi(), never a provider directly.
 */
import { createContext, useContext, type ComponentType } from "react";

export type AuthStatus = "loading" | "signed-out" | "signed-in";

export interface Auth {
  provider: "local" | "clerk";
  status: AuthStatus;
  /** Who is signed in, for display (local user name or Clerk email). */
  displayName: string | null;
  /** A fresh session token, or null when signed out. */
  getToken: () => Promise<string | null>;
  signOut: () => Promise<void>;
  /** The API said 401 to our token: drop the session. */
  onUnauthorized: () => void;
  /** The provider's sign-in UI. */
  SignInPanel: ComponentType;
  /**
   * Runs a sensitive request; when the API answers 403 `reverification_required`
   * it asks the user to confirm it is them (Clerk's reverification modal, or
   * the local "confirm it's you" dialog) and runs it once more. Rejects with
   * StepUpCancelled when the user declines.
   */
  stepUp: <T>(task: () => Promise<T>) => Promise<T>;
  twoFactor: TwoFactor;
  /** The provider's account page (Clerk's UserProfile), mounted at /app/profile/*; null for the local provider. */
  ProfilePanel: ComponentType | null;
}

/** Two-factor authentication as the identity provider knows it. */
export interface TwoFactor {
  /** On or off for the signed-in user; null while unknown. */
  enabled: boolean | null;
  /** The provider's own page to turn it on or off (Clerk's UserProfile → Security), or null when the provider has none. */
  manageHref: string | null;
}

export const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth() outside <AuthBoundary>");
  return auth;
}
