import { Navigate, useLocation } from "react-router";

/**
 * Creem sends the browser back to APP_ORIGIN/billing?checkout=success
 * (worker/services/billing.ts); the page lives in the signed-in area.
 */
export default function BillingReturn() {
  const { search } = useLocation();
  return <Navigate to={`/app/billing${search}`} replace />;
}
