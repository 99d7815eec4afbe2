import { useEffect, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { PageHeading } from "../components/PageHeading";
import { clearAccountDeletedNote, hasAccountDeletedNote } from "../features/auth/account-deleted";
import { useAuth } from "../features/auth/context";
import { IDLE_SIGNED_OUT_KEY } from "../features/auth/idle";

function takeIdleFlag(): boolean {
  const idle = sessionStorage.getItem(IDLE_SIGNED_OUT_KEY) === "1";
  sessionStorage.removeItem(IDLE_SIGNED_OUT_KEY);
  return idle;
}

function returnPath(state: unknown): string {
  if (typeof state === "object" && state !== null && "from" in state && typeof state.from === "string" && state.from.startsWith("/app")) {
    return state.from;
  }
  return "/app";
}

export default function SignIn() {
  const { status, SignInPanel } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const to = returnPath(location.state);
  // Shown once: read at mount, forgotten right after (a later visit to sign-in shows nothing).
  const [accountDeleted] = useState(hasAccountDeletedNote);
  useEffect(() => clearAccountDeletedNote(), []);
  const [idle] = useState(takeIdleFlag);

  useEffect(() => {
    if (status === "signed-in") void navigate(to, { replace: true });
  }, [status, navigate, to]);

  return (
    <>
      <PageHeading title="Sign in" />
      {accountDeleted && (
        <p role="alert" className="notice" data-testid="account-deleted-notice">
          This account has been deleted, so you have been signed out. Signing in again starts a new, empty account.
        </p>
      )}
      {idle && (
        <p role="status" className="notice" data-testid="idle-signed-out">
          You were signed out because nothing happened for a while.
        </p>
      )}
      <SignInPanel />
    </>
  );
}
