import { useEffect, useState, type FormEvent } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { useOperatorSupportActions, type OperatorSession, type SupportFacts, type SupportImageRequest } from "./api";

/**
 * The console's support sessions (decision 0019): open a time-boxed session
 * on one account, read its facts while it is open, end it; engineers ask for
 * one generation's pictures, and another operator approves (two-person rule).
 */
export function SupportConsole({ sessions, me }: { sessions: OperatorSession[]; me: string }) {
  return (
    <>
      <OpenForm />
      {sessions.length === 0 ? (
        <p>No support session is open.</p>
      ) : (
        <ol className="admin-list" aria-label="Open support sessions, newest first">
          {sessions.map((s) => (
            <SessionCard key={s.id} s={s} mine={s.operatorId === me} me={me} />
          ))}
        </ol>
      )}
    </>
  );
}

function OpenForm() {
  const { open } = useOperatorSupportActions();
  const [userId, setUserId] = useState("");
  const [reason, setReason] = useState("");
  const [ticket, setTicket] = useState("");
  const [minutes, setMinutes] = useState("30");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    open.mutate({ userId: userId.trim(), reason, ticket, minutes: Number(minutes) });
  };
  return (
    <form onSubmit={submit} aria-label="Open a support session" className="card">
      <h3>Open a support session</h3>
      <div className="field">
        <label htmlFor="ss-user">Account (usr_…)</label>
        <input id="ss-user" className="input mono" value={userId} onChange={(e) => setUserId(e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor="ss-reason">Reason (the user reads it)</label>
        <input id="ss-reason" className="input" value={reason} onChange={(e) => setReason(e.target.value)} required minLength={10} />
      </div>
      <div className="field">
        <label htmlFor="ss-ticket">Ticket reference</label>
        <input id="ss-ticket" className="input" value={ticket} onChange={(e) => setTicket(e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor="ss-minutes">Minutes</label>
        <select id="ss-minutes" className="input" value={minutes} onChange={(e) => setMinutes(e.target.value)}>
          {["15", "30", "60", "120"].map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="button" disabled={open.isPending}>
        Open session
      </button>
      {open.isError && <ErrorNotice title="Not opened" message={describeError(open.error)} />}
    </form>
  );
}

function SessionCard({ s, mine, me }: { s: OperatorSession; mine: boolean; me: string }) {
  const { end, facts } = useOperatorSupportActions();
  const [shown, setShown] = useState<SupportFacts | null>(null);
  return (
    <li className="card" data-testid="support-session-card" data-id={s.id}>
      <h3 style={{ overflowWrap: "anywhere" }}>
        Ticket {s.ticket} on <span className="mono">{s.userId}</span>
      </h3>
      <dl className="facts">
        <dt>Reason</dt>
        <dd>{s.reason}</dd>
        <dt>Opened by</dt>
        <dd className="mono">{mine ? "you" : s.operatorId}</dd>
        <dt>Open until</dt>
        <dd>
          <time dateTime={s.expiresAt}>{formatDateTime(s.expiresAt)}</time>
        </dd>
      </dl>
      {mine && (
        <p>
          <button
            type="button"
            className="button button-secondary"
            disabled={facts.isPending}
            onClick={() => facts.mutate(s.id, { onSuccess: setShown })}
          >
            Show account facts
          </button>{" "}
          <button type="button" className="button button-secondary" disabled={end.isPending} onClick={() => end.mutate(s.id)}>
            End session
          </button>
        </p>
      )}
      {(facts.isError || end.isError) && <ErrorNotice title="Refused" message={describeError(facts.error ?? end.error)} />}
      {shown && <Facts f={shown} />}
      {mine && <RequestForm sessionId={s.id} />}
      {s.requests.length > 0 && (
        <ul className="admin-list" aria-label="Picture requests">
          {s.requests.map((r) => (
            <RequestItem key={r.id} r={r} me={me} />
          ))}
        </ul>
      )}
    </li>
  );
}

function Facts({ f }: { f: SupportFacts }) {
  return (
    <div data-testid="support-facts">
      <dl className="facts">
        <dt>Credits</dt>
        <dd>{f.account.credits}</dd>
        <dt>Generations</dt>
        <dd>
          {Object.entries(f.account.counts.generations)
            .map(([k, n]) => `${k}: ${n}`)
            .join(", ")}
        </dd>
      </dl>
      <div className="table-wrap" role="region" aria-label="Generations of this account" tabIndex={0}>
        <table className="table">
          <caption>Generations (newest first)</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Status</th>
              <th scope="col">Error</th>
              <th scope="col">Pictures</th>
            </tr>
          </thead>
          <tbody>
            {f.generations.map((g) => (
              <tr key={g.id}>
                <td className="mono">{g.id}</td>
                <td>{g.status}</td>
                <td>{g.errorCode ?? "none"}</td>
                <td>{g.outputs}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function RequestForm({ sessionId }: { sessionId: string }) {
  const { request } = useOperatorSupportActions();
  const [generationId, setGenerationId] = useState("");
  const [reason, setReason] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    request.mutate({ sessionId, generationId: generationId.trim(), reason });
  };
  const idBase = `sr-${sessionId}`;
  return (
    <form onSubmit={submit} aria-label="Ask to see a generation's pictures">
      <h4>Ask to see a generation&apos;s pictures (engineers)</h4>
      <div className="field">
        <label htmlFor={`${idBase}-gen`}>Generation (gen_…)</label>
        <input
          id={`${idBase}-gen`}
          className="input mono"
          value={generationId}
          onChange={(e) => setGenerationId(e.target.value)}
          required
        />
      </div>
      <div className="field">
        <label htmlFor={`${idBase}-reason`}>Why (the user reads it)</label>
        <input
          id={`${idBase}-reason`}
          className="input"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          required
          minLength={10}
        />
      </div>
      <button type="submit" className="button button-secondary" disabled={request.isPending}>
        Ask
      </button>
      {request.isError && <ErrorNotice title="Not requested" message={describeError(request.error)} />}
    </form>
  );
}

function RequestItem({ r, me }: { r: SupportImageRequest; me: string }) {
  const { approve, picture } = useOperatorSupportActions();
  const [note, setNote] = useState("");
  const [shown, setShown] = useState<{ url: string; count: number; index: number } | null>(null);
  useEffect(() => () => (shown ? URL.revokeObjectURL(shown.url) : undefined), [shown]);
  const mine = r.requestedBy === me;
  const how =
    r.decidedVia === "operator"
      ? "approved by a second operator"
      : r.decidedVia === "user"
        ? "allowed by the user"
        : r.decidedVia === "user_window"
          ? "allowed by the user's window"
          : "";
  const show = (index: number) => picture.mutate({ id: r.id, index }, { onSuccess: (p) => setShown({ ...p, index }) });
  return (
    <li data-testid="support-picture-request" data-status={r.status}>
      <p>
        Generation <span className="mono">{r.generationId}</span>, asked by {mine ? "you" : <span className="mono">{r.requestedBy}</span>}:{" "}
        {r.reason}. <strong>{r.status}</strong>
        {how ? ` (${how})` : ""}
      </p>
      {r.status === "pending" && !mine && (
        <form
          className="inline-form"
          aria-label="Approve as the second operator"
          onSubmit={(e) => {
            e.preventDefault();
            approve.mutate({ id: r.id, note });
          }}
        >
          <div className="field">
            <label htmlFor={`ap-${r.id}`}>Why you approve</label>
            <input id={`ap-${r.id}`} className="input" value={note} onChange={(e) => setNote(e.target.value)} required minLength={5} />
          </div>
          <button type="submit" className="button button-secondary" disabled={approve.isPending}>
            Approve (second operator)
          </button>
        </form>
      )}
      {r.status === "pending" && mine && <p className="muted small">Waiting for the user or a second operator.</p>}
      {r.status === "approved" && mine && (
        <button type="button" className="button button-secondary" disabled={picture.isPending} onClick={() => show(0)}>
          Show the first picture
        </button>
      )}
      {shown && (
        <figure>
          <img
            src={shown.url}
            alt={`Picture ${shown.index + 1} of generation ${r.generationId}`}
            style={{ maxWidth: "100%", height: "auto" }}
          />
          <figcaption>
            Picture {shown.index + 1} of {shown.count}{" "}
            {shown.index + 1 < shown.count && (
              <button type="button" className="button button-secondary button-small" onClick={() => show(shown.index + 1)}>
                Next
              </button>
            )}
          </figcaption>
        </figure>
      )}
      {(approve.isError || picture.isError) && <ErrorNotice title="Refused" message={describeError(approve.error ?? picture.error)} />}
    </li>
  );
}
