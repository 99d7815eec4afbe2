import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { PageHeading } from "../components/PageHeading";
import { useIncidents, useLegalDemands, useOperatorLog, usePrivacyInbox } from "../features/privacy-team/admin-api";
import { Incidents } from "../features/privacy-team/Incidents";
import { LegalDemands } from "../features/privacy-team/LegalDemands";
import { PrivacyInbox } from "../features/privacy-team/PrivacyInbox";
import { useMe } from "../features/account/useMe";
import { useOperatorSessions } from "../features/support/api";
import { SupportConsole } from "../features/support/SupportConsole";
import { ApiError, describeError } from "../lib/api/problem";
import { formatDateTime } from "../lib/format";
import { NotFound } from "./NotFound";
import "../components/pages.css";

/**
 * The operator console (issue 16). The API decides who is an operator (the
 * admin role from server-side metadata); anyone else gets its 404, and this
 * page then shows the ordinary not-found view, revealing nothing.
 */
export default function Admin() {
  const inbox = usePrivacyInbox();
  const log = useOperatorLog(inbox.isSuccess);
  const incidents = useIncidents(inbox.isSuccess);
  const demands = useLegalDemands(inbox.isSuccess);
  const sessions = useOperatorSessions(inbox.isSuccess);
  const me = useMe();
  const logEntries = log.data?.pages.flatMap((p) => p.items);
  if (inbox.isPending) return <Loading label="Loading the operator console" />;
  if (inbox.isError && inbox.error instanceof ApiError && inbox.error.status === 404) return <NotFound />;
  return (
    <>
      <PageHeading title="Operator console" />
      <p>
        Every action here is recorded in the operator log below and, when it concerns an account, in that user&apos;s own activity log with
        the note you give. Guide: docs/runbooks/privacy-team.md.
      </p>
      <nav aria-label="Console sections" className="toc">
        <ul>
          <li>
            <a href="#support-sessions">Support sessions</a>
          </li>
          <li>
            <a href="#inbox">Privacy inbox</a>
          </li>
          <li>
            <a href="#incidents">Incidents</a>
          </li>
          <li>
            <a href="#legal-demands">Legal demands</a>
          </li>
          <li>
            <a href="#operator-log">Operator log</a>
          </li>
        </ul>
      </nav>
      <section aria-labelledby="support-sessions">
        <h2 id="support-sessions">Support sessions</h2>
        <p>
          A session lets you see one account&apos;s facts (credits, generations, errors) for a limited time; the user sees it at once and
          can end it. Pictures need the engineer role and the user&apos;s permission or a second operator&apos;s approval.
        </p>
        {sessions.isError && <ErrorNotice title="Could not load the support sessions" message={describeError(sessions.error)} />}
        {sessions.data && me.data && <SupportConsole sessions={sessions.data} me={me.data.id} />}
      </section>
      <section aria-labelledby="inbox">
        <h2 id="inbox">Privacy inbox</h2>
        {inbox.isError && (
          <ErrorNotice title="Could not load the inbox" message={describeError(inbox.error)} onRetry={() => void inbox.refetch()} />
        )}
        {inbox.data && <PrivacyInbox items={inbox.data} />}
      </section>
      <section aria-labelledby="incidents">
        <h2 id="incidents">Incidents</h2>
        {incidents.isError && <ErrorNotice title="Could not load the incidents" message={describeError(incidents.error)} />}
        {incidents.data && <Incidents items={incidents.data} />}
      </section>
      <section aria-labelledby="legal-demands">
        <h2 id="legal-demands">Legal demands</h2>
        {demands.isError && <ErrorNotice title="Could not load the legal demands" message={describeError(demands.error)} />}
        {demands.data && <LegalDemands items={demands.data} />}
      </section>
      <section aria-labelledby="operator-log">
        <h2 id="operator-log">Operator log</h2>
        {log.isPending && <Loading label="Loading the operator log" />}
        {log.isError && <ErrorNotice title="Could not load the operator log" message={describeError(log.error)} />}
        {logEntries && logEntries.length === 0 && <p>No operator actions yet.</p>}
        {logEntries && logEntries.length > 0 && (
          <ol className="activity-list" aria-label="Operator actions, newest first">
            {logEntries.map((e) => (
              <li key={e.id} className="activity" data-testid="operator-log-entry">
                <p className="activity-summary">
                  {e.action} on {e.target.type} <span className="mono">{e.target.id}</span>
                  {typeof e.detail?.["reason"] === "string" ? `: ${e.detail["reason"]}` : ""}
                </p>
                <p className="muted small">
                  <time dateTime={e.at}>{formatDateTime(e.at)}</time> · by {e.operatorId}
                  {e.userId ? ` · account ${e.userId}` : ""}
                </p>
              </li>
            ))}
          </ol>
        )}
        {log.hasNextPage && (
          <button type="button" className="button button-secondary" disabled={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
            {log.isFetchingNextPage ? "Loading…" : "Show older entries"}
          </button>
        )}
      </section>
    </>
  );
}
