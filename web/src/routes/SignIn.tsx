import { useEffect } from "react";
import { useLocation, useNavigate } from "react-router";
import { PageHeading } from "../components/PageHeading";
import { useAuth } from "../features/auth/context";

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

  useEffect(() => {
    if (status === "signed-in") void navigate(to, { replace: true });
  }, [status, navigate, to]);

  return (
    <>
      <PageHeading title="Sign in" />
      <SignInPanel />
    </>
  );
}
