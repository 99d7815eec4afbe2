/**
 * The signed-in area tells the site header what to show (its sections and
 * "Sign out"), so a signed-in page has one navigation, not the site's plus
 * the app's (issue 19 item 3). The header lives outside the auth provider,
 * so the app hands it plain values, never a component that needs the provider.
 */
import { createContext, useContext } from "react";

export interface AppNav {
  displayName: string | null;
  signOut: () => void;
}

export const AppNavContext = createContext<(nav: AppNav | null) => void>(() => undefined);

export function useSetAppNav(): (nav: AppNav | null) => void {
  return useContext(AppNavContext);
}
