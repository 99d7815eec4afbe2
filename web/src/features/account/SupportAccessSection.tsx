import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { useSupportAccess } from "./api";

/** Windows a user can grant; the API caps them at MAX_GRANT_HOURS (72, worker/services/support.ts). */
const WINDOWS = [
  { hours: 1, label: "1 hour" },
  { hours: 24, label: "24 hours" },
  { hours: 72, label: "3 days" },
] as const;

/** Let support staff see photos and results for a time window (PUT/DELETE /v1/me/support-access). */
export function SupportAccessSection({ until }: { until: string | null }) {
  const { grant, revoke } = useSupportAccess();
  const [hours, setHours] = useState("24");
  const active = until !== null && Date.parse(until) > Date.now();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    grant.mutate(Number(hours));
  };

  return (
    <section className="card" aria-labelledby="support-title">
      <h2 id="support-title">Support access</h2>
      <p>
        Support staff see your account&apos;s basic details (not your photos) only in a support session, which you see in a banner and can
        end. An engineer in such a session may ask to see one generation&apos;s pictures; you allow or refuse each request in the banner,
        and during a window you open here the requests are allowed without asking you. Every look, and its reason, appears in your{" "}
        <Link to="/app/activity">activity log</Link>.
      </p>
      {active && until ? (
        <>
          <p role="status" data-testid="support-access-state">
            Support can see your photos and pictures until <time dateTime={until}>{formatDateTime(until)}</time>.
          </p>
          <button type="button" className="button button-secondary" disabled={revoke.isPending} onClick={() => revoke.mutate()}>
            {revoke.isPending ? "Closing…" : "Close access now"}
          </button>
        </>
      ) : (
        <form onSubmit={submit} className="inline-form">
          <p data-testid="support-access-state">Support cannot see your photos or pictures.</p>
          <div className="field">
            <label htmlFor="support-hours">Let support see them for</label>
            <select id="support-hours" className="input" value={hours} onChange={(e) => setHours(e.target.value)}>
              {WINDOWS.map((w) => (
                <option key={w.hours} value={w.hours}>
                  {w.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button button-secondary" disabled={grant.isPending}>
            {grant.isPending ? "Opening…" : "Open access"}
          </button>
        </form>
      )}
      {(grant.isError || revoke.isError) && <ErrorNotice title="Could not change support access" message={describeError(grant.error ?? revoke.error)} />}
    </section>
  );
}
