/**
 * The local development identity provider: "sign in as a local user". Tokens
 * are Clerk-shaped JWTs minted by the development Worker and verified by the
 * same path as Clerk's (worker/auth/session.ts).
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Outlet } from "react-router";
import { AuthContext, type Auth, type AuthStatus } from "../context";
import { isReverificationRequired, StepUpCancelled } from "../../../lib/api/problem";
import { ConfirmItsYou } from "./ConfirmItsYou";
import { LocalSignIn } from "./LocalSignIn";
import { LocalSignInContext } from "./local-context";
import { clearSession, loadSession, mintSession, refreshDueIn, saveSession, type LocalSession } from "./session";

const LOCAL_TWO_FACTOR = { enabled: false, manageHref: null } as const;

export default function LocalAuthRoot() {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<LocalSession | null>(loadSession);
  const [status, setStatus] = useState<AuthStatus>(() => {
    const s = loadSession();
    if (!s) return "signed-out";
    return refreshDueIn(s) > 0 ? "signed-in" : "loading";
  });
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const inflight = useRef<Promise<LocalSession | null> | null>(null);

  const adopt = useCallback((next: LocalSession | null) => {
    if (next) saveSession(next);
    else clearSession();
    sessionRef.current = next;
    setSession(next);
    setStatus(next ? "signed-in" : "signed-out");
  }, []);

  /** Re-mints the current user's token; concurrent callers share one request. */
  const refresh = useCallback((): Promise<LocalSession | null> => {
    const current = sessionRef.current;
    if (!current) return Promise.resolve(null);
    inflight.current ??= mintSession(current.user, current.name, current.verifiedAt)
      .then((next) => {
        adopt(next);
        return next;
      })
      .catch(() => {
        adopt(null);
        return null;
      })
      .finally(() => {
        inflight.current = null;
      });
    return inflight.current;
  }, [adopt]);

  // A stored session that is about to expire is refreshed at once; a live one
  // just before its expiry (REFRESH_MARGIN_MS).
  useEffect(() => {
    if (!session) return;
    const timer = setTimeout(() => void refresh(), Math.max(0, refreshDueIn(session)));
    return () => clearTimeout(timer);
  }, [session, refresh]);

  const getToken = useCallback(async () => {
    const current = sessionRef.current;
    if (!current) return null;
    if (refreshDueIn(current) > 0) return current.token;
    return (await refresh())?.token ?? null;
  }, [refresh]);

  const signOut = useCallback(async () => {
    adopt(null);
    queryClient.clear();
  }, [adopt, queryClient]);

  const onUnauthorized = useCallback(() => {
    adopt(null);
    queryClient.clear();
  }, [adopt, queryClient]);

  const signIn = useCallback(
    async (user: string, name: string) => {
      queryClient.clear();
      adopt(await mintSession(user, name));
    },
    [adopt, queryClient],
  );

  // The local "confirm it's you": one pending question at a time, answered by the dialog.
  const [confirming, setConfirming] = useState<{ resolve: () => void; reject: (err: Error) => void } | null>(null);
  const askToConfirm = useCallback(
    () =>
      new Promise<void>((resolve, reject) => {
        setConfirming({ resolve, reject });
      }),
    [],
  );
  const confirm = useCallback(async () => {
    const current = sessionRef.current;
    if (!current) throw new Error("Not signed in.");
    adopt(await mintSession(current.user, current.name));
  }, [adopt]);

  const stepUp = useCallback(
    async <T,>(task: () => Promise<T>): Promise<T> => {
      try {
        return await task();
      } catch (err) {
        if (!isReverificationRequired(err)) throw err;
        await askToConfirm();
        return task();
      }
    },
    [askToConfirm],
  );

  const auth = useMemo<Auth>(
    () => ({
      provider: "local",
      status,
      displayName: session?.name ?? null,
      getToken,
      signOut,
      onUnauthorized,
      SignInPanel: LocalSignIn,
      stepUp,
      // The local equivalent: local users have no second factor (their tokens' fva[1] is always -1).
      twoFactor: LOCAL_TWO_FACTOR,
      ProfilePanel: null,
    }),
    [status, session, getToken, signOut, onUnauthorized, stepUp],
  );

  return (
    <AuthContext value={auth}>
      <LocalSignInContext value={signIn}>
        <Outlet />
        <ConfirmItsYou
          open={confirming !== null}
          name={session?.name ?? null}
          onConfirm={async () => {
            await confirm();
            confirming?.resolve();
            setConfirming(null);
          }}
          onCancel={() => {
            confirming?.reject(new StepUpCancelled());
            setConfirming(null);
          }}
        />
      </LocalSignInContext>
    </AuthContext>
  );
}
