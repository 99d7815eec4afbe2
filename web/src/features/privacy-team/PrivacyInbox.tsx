import { useState, type FormEvent } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { useSetRequestStatus, useTakedown, type AdminPrivacyRequest } from "./admin-api";
import { describeRemaining, useNow } from "./countdown";

const STATUSES = [
  { value: "verifying", label: "Verifying the requester" },
  { value: "in_progress", label: "In progress" },
  { value: "completed", label: "Completed (erases their email)" },
  { value: "rejected", label: "Rejected (erases their email)" },
] as const;

function RequestActions({ r }: { r: AdminPrivacyRequest }) {
  const setStatus = useSetRequestStatus();
  const takedown = useTakedown();
  const [status, setStatusValue] = useState<(typeof STATUSES)[number]["value"]>("in_progress");
  const [note, setNote] = useState("");
  const [generationId, setGenerationId] = useState(r.subject && /^gen_[0-9a-f]{32}$/.test(r.subject) ? r.subject : "");
  const [tdNote, setTdNote] = useState("");
  const onStatus = (e: FormEvent) => {
    e.preventDefault();
    setStatus.mutate({ id: r.id, status, note });
  };
  const onTakedown = (e: FormEvent) => {
    e.preventDefault();
    takedown.mutate({ id: r.id, generationId, note: tdNote });
  };
  return (
    <>
      <form onSubmit={onStatus} className="inline-form" aria-label={`Update request ${r.id}`}>
        <div className="field">
          <label htmlFor={`status-${r.id}`}>New status</label>
          <select id={`status-${r.id}`} className="input" value={status} onChange={(e) => setStatusValue(e.target.value as typeof status)}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`note-${r.id}`}>Note (what you did and why)</label>
          <input id={`note-${r.id}`} className="input" value={note} onChange={(e) => setNote(e.target.value)} />
        </div>
        <button type="submit" className="button button-secondary" disabled={setStatus.isPending}>
          Update
        </button>
      </form>
      {setStatus.isError && <ErrorNotice title="Not updated" message={describeError(setStatus.error)} />}
      {r.type === "takedown" && (
        <form onSubmit={onTakedown} className="inline-form" aria-label={`Take down for request ${r.id}`}>
          <div className="field">
            <label htmlFor={`gen-${r.id}`}>Generation to delete</label>
            <input id={`gen-${r.id}`} className="input mono" value={generationId} onChange={(e) => setGenerationId(e.target.value)} placeholder="gen_…" />
          </div>
          <div className="field">
            <label htmlFor={`td-note-${r.id}`}>How it was verified</label>
            <input id={`td-note-${r.id}`} className="input" value={tdNote} onChange={(e) => setTdNote(e.target.value)} />
          </div>
          <button type="submit" className="button" disabled={takedown.isPending}>
            Delete it and notify the owner
          </button>
          {takedown.isSuccess && <p role="status">Deleted (receipt {takedown.data.receiptId}); the owner was notified.</p>}
          {takedown.isError && <ErrorNotice title="Not taken down" message={describeError(takedown.error)} />}
        </form>
      )}
    </>
  );
}

/** The privacy inbox: every request with its legal deadline counting down, its history and the actions. */
export function PrivacyInbox({ items }: { items: AdminPrivacyRequest[] }) {
  const now = useNow();
  if (items.length === 0) return <p>No requests yet.</p>;
  return (
    <ol className="admin-list" aria-label="Privacy requests">
      {items.map((r) => {
        const closed = r.status === "completed" || r.status === "rejected";
        const due = r.dueAt ? describeRemaining(Date.parse(r.dueAt), now) : null;
        return (
          <li key={r.id} className="card" data-testid="privacy-request" data-id={r.id}>
            <h3>
              <span className="tag">{r.type}</span> <span className="mono">{r.id}</span>
            </h3>
            <dl className="facts">
              <dt>Status</dt>
              <dd data-testid="request-status">{r.status}</dd>
              <dt>Received</dt>
              <dd>{formatDateTime(r.createdAt)}</dd>
              <dt>Legal deadline</dt>
              <dd data-testid="request-deadline">
                {r.dueAt && due ? (
                  <>
                    <time dateTime={r.dueAt}>{formatDateTime(r.dueAt)}</time>
                    {!closed && <strong className={due.overdue ? "error-text" : undefined}> · {due.text}</strong>}
                  </>
                ) : (
                  "None (a question)"
                )}
              </dd>
              <dt>From</dt>
              <dd>{r.email ?? "erased (request closed)"}</dd>
              {r.subject && (
                <>
                  <dt>Picture named</dt>
                  <dd className="mono">{r.subject}</dd>
                </>
              )}
              <dt>Message</dt>
              <dd>{r.message ?? "erased (request closed)"}</dd>
            </dl>
            <h4>History</h4>
            <ol className="small">
              {r.history.map((h, i) => (
                <li key={i}>
                  <time dateTime={h.at}>{formatDateTime(h.at)}</time>: {h.action} by {h.actor}
                  {h.note ? ` (${h.note})` : ""}
                </li>
              ))}
            </ol>
            {!closed && <RequestActions r={r} />}
          </li>
        );
      })}
    </ol>
  );
}
