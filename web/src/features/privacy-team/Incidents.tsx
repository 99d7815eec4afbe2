import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { useDeclareIncident, useIncidentActions, type AdminIncident } from "./admin-api";
import { describeRemaining, useNow } from "./countdown";

/** Audit actions that mean "someone read this user's data" (docs/audit-log.md). */
const FINDER_ACTIONS = ["file.downloaded", "link.used", "link.issued", "photo.viewed", "generation.viewed", "export.downloaded", "support.accessed"] as const;

const toIso = (local: string) => new Date(`${local}:00Z`).toISOString();

function DeclareForm() {
  const declare = useDeclareIncident();
  const [title, setTitle] = useState("");
  const [summary, setSummary] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [kinds, setKinds] = useState("");
  const [actions, setActions] = useState<string[]>(["file.downloaded", "link.used"]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!start || !end) return;
    declare.mutate({
      title,
      summary,
      windowStart: toIso(start),
      windowEnd: toIso(end),
      dataKinds: kinds.split(",").map((k) => k.trim()).filter(Boolean),
      finder: { actions: actions as NonNullable<Parameters<typeof declare.mutate>[0]>["finder"]["actions"] },
    });
  };
  return (
    <form onSubmit={submit} aria-label="Declare an incident" className="card">
      <h3>Declare an incident</h3>
      <div className="field">
        <label htmlFor="inc-title">Title</label>
        <input id="inc-title" className="input" value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="inc-summary">What happened (sent to the affected users)</label>
        <textarea id="inc-summary" className="input" rows={3} value={summary} onChange={(e) => setSummary(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="inc-start">Window start (UTC)</label>
        <input id="inc-start" type="datetime-local" className="input" value={start} onChange={(e) => setStart(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="inc-end">Window end (UTC)</label>
        <input id="inc-end" type="datetime-local" className="input" value={end} onChange={(e) => setEnd(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="inc-kinds">Data kinds (comma-separated)</label>
        <input id="inc-kinds" className="input" value={kinds} onChange={(e) => setKinds(e.target.value)} placeholder="generated images, parent photos" />
      </div>
      <fieldset className="field">
        <legend>Affected users are those with these accesses in the window</legend>
        <ul className="checkbox-list">
          {FINDER_ACTIONS.map((a) => (
            <li key={a}>
              <input
                type="checkbox"
                id={`finder-${a}`}
                checked={actions.includes(a)}
                onChange={(e) => setActions(e.target.checked ? [...actions, a] : actions.filter((x) => x !== a))}
              />
              <label htmlFor={`finder-${a}`} className="mono">
                {a}
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <button type="submit" className="button" disabled={declare.isPending}>
        Declare
      </button>
      {declare.isError && <ErrorNotice title="Not declared" message={describeError(declare.error)} />}
    </form>
  );
}

function IncidentCard({ inc, now }: { inc: AdminIncident; now: number }) {
  const { notify, authority, publish } = useIncidentActions();
  const [note, setNote] = useState("");
  const [postMortem, setPostMortem] = useState(inc.postMortem ?? "");
  const remaining = describeRemaining(Date.parse(inc.clock.deadlineAt), now);
  return (
    <li className="card" data-testid="incident" data-id={inc.id}>
      <h3>{inc.title}</h3>
      <p data-testid="incident-clock" className={inc.clock.running && remaining.overdue ? "error-text" : undefined}>
        <strong>72-hour clock:</strong>{" "}
        {inc.clock.running ? (
          <>
            notify the supervisory authority by <time dateTime={inc.clock.deadlineAt}>{formatDateTime(inc.clock.deadlineAt)}</time> ({remaining.text})
          </>
        ) : (
          <>stopped: authority notified {inc.authorityNotifiedAt ? formatDateTime(inc.authorityNotifiedAt) : ""}</>
        )}
      </p>
      <dl className="facts">
        <dt>Window</dt>
        <dd>
          {formatDateTime(inc.windowStart)} to {formatDateTime(inc.windowEnd)}
        </dd>
        <dt>Data kinds</dt>
        <dd>{inc.dataKinds.join(", ")}</dd>
        <dt>Affected users found by</dt>
        <dd className="mono">{inc.finder.actions.join(", ")}</dd>
        <dt>Users notified</dt>
        <dd data-testid="incident-users">{inc.usersNotifiedAt ? `${inc.affectedUsers ?? 0} on ${formatDateTime(inc.usersNotifiedAt)}` : "not yet"}</dd>
        <dt>Post-mortem</dt>
        <dd>{inc.publishedAt ? <Link to={`/incidents/${inc.slug}`}>/incidents/{inc.slug}</Link> : "not published"}</dd>
      </dl>
      {!inc.usersNotifiedAt && (
        <button type="button" className="button" disabled={notify.isPending} onClick={() => notify.mutate(inc.id)}>
          Notify affected users
        </button>
      )}
      {inc.clock.running && (
        <form
          className="inline-form"
          aria-label={`Authority notified for ${inc.title}`}
          onSubmit={(e) => {
            e.preventDefault();
            authority.mutate({ id: inc.id, note });
          }}
        >
          <div className="field">
            <label htmlFor={`auth-note-${inc.id}`}>Authority notified (reference)</label>
            <input id={`auth-note-${inc.id}`} className="input" value={note} onChange={(e) => setNote(e.target.value)} />
          </div>
          <button type="submit" className="button button-secondary">
            Record
          </button>
        </form>
      )}
      <form
        aria-label={`Post-mortem for ${inc.title}`}
        onSubmit={(e) => {
          e.preventDefault();
          publish.mutate({ id: inc.id, postMortem });
        }}
      >
        <div className="field">
          <label htmlFor={`pm-${inc.id}`}>Post-mortem (public)</label>
          <textarea id={`pm-${inc.id}`} className="input" rows={4} value={postMortem} onChange={(e) => setPostMortem(e.target.value)} />
        </div>
        <button type="submit" className="button button-secondary">
          {inc.publishedAt ? "Update post-mortem" : "Publish post-mortem"}
        </button>
      </form>
      {[notify, authority, publish].map((m, i) => (m.isError ? <ErrorNotice key={i} title="Not done" message={describeError(m.error)} /> : null))}
    </li>
  );
}

export function Incidents({ items }: { items: AdminIncident[] }) {
  const now = useNow();
  return (
    <>
      <DeclareForm />
      {items.length === 0 ? (
        <p>No incidents.</p>
      ) : (
        <ol className="admin-list" aria-label="Incidents, newest first">
          {items.map((inc) => (
            <IncidentCard key={inc.id} inc={inc} now={now} />
          ))}
        </ol>
      )}
    </>
  );
}
