import { Link } from "react-router";
import { useAuth } from "../auth/context";

/** Whether two-factor authentication is on (from Clerk's user), and the way to Clerk's security page to change it. */
export function TwoFactorSection() {
  const { twoFactor, provider } = useAuth();
  const state = twoFactor.enabled === null ? "…" : twoFactor.enabled ? "on" : "off";
  return (
    <section className="card" aria-labelledby="two-factor-title" data-testid="two-factor">
      <h2 id="two-factor-title">Two-factor authentication</h2>
      <p>
        Two-factor authentication is <strong data-testid="two-factor-state">{state}</strong>. It is optional. When it is on, signing in and the
        sign-in check before sensitive actions (deleting your account, downloading your data, changing API keys or how long photos are kept)
        also ask for your second factor.
      </p>
      {twoFactor.manageHref ? (
        <Link className="button button-secondary" to={twoFactor.manageHref}>
          {twoFactor.enabled ? "Manage two-factor authentication" : "Turn on two-factor authentication"}
        </Link>
      ) : (
        <p className="muted small">
          {provider === "local" ? "Local sign-in (development) has no second factor; with Clerk this opens Clerk's security page." : null}
        </p>
      )}
    </section>
  );
}
