import { createContext, useContext } from "react";

export type LocalSignInFn = (user: string, name: string) => Promise<void>;

export const LocalSignInContext = createContext<LocalSignInFn | null>(null);

export function useLocalSignIn(): LocalSignInFn {
  const fn = useContext(LocalSignInContext);
  if (!fn) throw new Error("useLocalSignIn() outside the local auth provider");
  return fn;
}
