import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { publicApi } from "../../../lib/api/client";
import { ApiError, describeError, unwrap } from "../../../lib/api/problem";
import { ErrorNotice } from "../../../components/ErrorNotice";
import { Loading } from "../../../components/Loading";
import { useLocalSignIn } from "./local-context";

/** "Sign in as a local user": the users the development Worker knows. */
export function LocalSignIn() {
  const signIn = useLocalSignIn();
  const [pending, setPending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const users = useQuery({
    queryKey: ["dev-users"],
    queryFn: async () => unwrap(await publicApi.GET("/v1/dev/users")).users,
    staleTime: Infinity,
  });

  if (users.isPending) return <Loading label="Loading local users" />;
  if (users.isError) {
    const notDev = users.error instanceof ApiError && users.error.status === 404;
    return (
      <ErrorNotice
        title="Local sign-in is not available"
        message={notDev ? "The API is not running in development mode, so there are no local users. Configure Clerk to sign in." : describeError(users.error)}
        onRetry={notDev ? undefined : () => void users.refetch()}
      />
    );
  }

  const choose = async (id: string, name: string) => {
    setPending(id);
    setError(null);
    try {
      await signIn(id, name);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setPending(null);
    }
  };

  return (
    <section aria-labelledby="local-users-heading" className="card">
      <h2 id="local-users-heading">Sign in as a local user</h2>
      <p className="muted">
        This is the local development setup: no passwords and no Clerk. Each local user has separate data, so you can check that one never
        sees another&apos;s.
      </p>
      {error && <p role="alert" className="notice notice-error">{error}</p>}
      <ul className="user-list">
        {users.data.map((u) => (
          <li key={u.id}>
            <button type="button" className="button" aria-describedby={`user-${u.id}-email`} disabled={pending !== null} onClick={() => void choose(u.id, u.name)}>
              {pending === u.id ? `Signing in as ${u.name}…` : `Sign in as ${u.name}`}
            </button>
            <span id={`user-${u.id}-email`} className="muted">
              {u.email}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
