import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { useMySupportActions, useMySupportSessions, type MySupportSession } from "./api";

/**
 * Shown above every signed-in page while a support session is open on the
 * account (decision 0019): who asked and why, until when, an "End it now"
 * button, and each request to see a generation's pictures to allow or refuse.
 */
export function SupportSessionBanner() {
  const sessions = useMySupportSessions();
  const items = sessions.data ?? [];
  if (items.length === 0) return null;
  return (
    <section className="notice notice-warning" aria-labelledby="support-session-title" data-testid="support-session-banner">
      <h2 id="support-session-title">Support is looking at your account</h2>
      {items.map((s) => (
        <SessionItem key={s.id} s={s} />
      ))}
      <p className="small">
        Support sees your credits and the states of your generations, never your photos or pictures unless you allow it below. Every look is
        in your <Link to="/app/activity">activity log</Link>.
      </p>
    </section>
  );
}

function SessionItem({ s }: { s: MySupportSession }) {
  const { end, allow, refuse } = useMySupportActions();
  const pending = s.requests.filter((r) => r.status === "pending");
  const failed = end.error ?? allow.error ?? refuse.error;
  return (
    <article data-testid="support-session" data-id={s.id}>
      <p>
        Ticket <strong>{s.ticket}</strong>: {s.reason}. Open until <time dateTime={s.expiresAt}>{formatDateTime(s.expiresAt)}</time>.
      </p>
      {pending.map((r) => (
        <div key={r.id} className="inline-form" data-testid="support-picture-request">
          <p>
            An engineer asks to see the pictures of generation <span className="mono">{r.generationId}</span> because: {r.reason}
          </p>
          <button
            type="button"
            className="button button-secondary button-small"
            disabled={allow.isPending}
            onClick={() => allow.mutate(r.id)}
          >
            Allow for this session
          </button>{" "}
          <button
            type="button"
            className="button button-secondary button-small"
            disabled={refuse.isPending}
            onClick={() => refuse.mutate(r.id)}
          >
            Refuse
          </button>
        </div>
      ))}
      <button type="button" className="button button-secondary" disabled={end.isPending} onClick={() => end.mutate(s.id)}>
        {end.isPending ? "Ending…" : "End this support session now"}
      </button>
      {failed && <ErrorNotice title="That did not work" message={describeError(failed)} />}
    </article>
  );
}
