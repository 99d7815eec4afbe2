import { Navigate, Outlet, useLocation } from "react-router";
import { Loading } from "../../components/Loading";
import { useAuth } from "./context";
import { IdleSignOut } from "./IdleSignOut";

/** Renders the child routes for a signed-in user; otherwise sends them to sign in and back. */
export function RequireAuth() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "loading") return <Loading label="Checking your session" />;
  if (status === "signed-out") return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  return (
    <>
      <IdleSignOut />
      <Outlet />
    </>
  );
}
