import { useState, type FormEvent } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { formatDate } from "../../lib/format";
import { useLegalDemandActions, type LegalDemand, type NewDemand } from "./admin-api";

const TYPES: NewDemand["type"][] = ["subpoena", "court_order", "search_warrant", "emergency", "other"];

function RecordForm() {
  const { record } = useLegalDemandActions();
  const [type, setType] = useState<NewDemand["type"]>("court_order");
  const [authority, setAuthority] = useState("");
  const [legalBasis, setLegalBasis] = useState("");
  const [receivedAt, setReceivedAt] = useState("");
  const [userId, setUserId] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    record.mutate({ type, authority, legalBasis, receivedAt, ...(userId.trim() ? { userId: userId.trim() } : {}) });
  };
  return (
    <form onSubmit={submit} aria-label="Record a legal demand" className="card">
      <h3>Record a legal demand</h3>
      <div className="field">
        <label htmlFor="ld-type">Type</label>
        <select id="ld-type" className="input" value={type} onChange={(e) => setType(e.target.value as NewDemand["type"])}>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t.replace("_", " ")}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="ld-authority">Authority</label>
        <input id="ld-authority" className="input" value={authority} onChange={(e) => setAuthority(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="ld-basis">Legal basis</label>
        <input id="ld-basis" className="input" value={legalBasis} onChange={(e) => setLegalBasis(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="ld-date">Date received</label>
        <input id="ld-date" type="date" className="input" value={receivedAt} onChange={(e) => setReceivedAt(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="ld-user">Account concerned (usr_…, optional)</label>
        <input id="ld-user" className="input mono" value={userId} onChange={(e) => setUserId(e.target.value)} />
      </div>
      <button type="submit" className="button" disabled={record.isPending}>
        Record
      </button>
      {record.isError && <ErrorNotice title="Not recorded" message={describeError(record.error)} />}
    </form>
  );
}

function DemandCard({ d }: { d: LegalDemand }) {
  const { decide, notify } = useLegalDemandActions();
  const [decision, setDecision] = useState<"rejected" | "complied" | "partially_complied">("rejected");
  const [note, setNote] = useState("");
  const [produced, setProduced] = useState("");
  const [reason, setReason] = useState("");
  const [reviewAt, setReviewAt] = useState("");
  return (
    <li className="card" data-testid="legal-demand" data-id={d.id}>
      <h3>
        {d.type.replace("_", " ")} from {d.authority}
      </h3>
      <dl className="facts">
        <dt>Received</dt>
        <dd>{formatDate(d.receivedAt)}</dd>
        <dt>Legal basis</dt>
        <dd>{d.legalBasis}</dd>
        <dt>Account</dt>
        <dd className="mono">{d.userId ?? "none named"}</dd>
        <dt>Decision</dt>
        <dd data-testid="demand-decision">
          {d.decision}
          {d.decisionNote ? ` (${d.decisionNote})` : ""}
        </dd>
        <dt>Produced</dt>
        <dd>{d.producedData.length ? d.producedData.join("; ") : "nothing"}</dd>
        <dt>User notification</dt>
        <dd data-testid="demand-notification">
          {d.notification}
          {d.notification === "deferred" && d.deferReviewAt ? ` (${d.deferReason ?? ""}; review by ${formatDate(d.deferReviewAt)})` : ""}
        </dd>
      </dl>
      {d.decision === "pending" && (
        <form
          aria-label={`Decision on ${d.id}`}
          onSubmit={(e) => {
            e.preventDefault();
            decide.mutate({ id: d.id, body: { decision, note, producedData: produced.split("\n").map((x) => x.trim()).filter(Boolean) } });
          }}
        >
          <div className="field">
            <label htmlFor={`dec-${d.id}`}>Decision</label>
            <select id={`dec-${d.id}`} className="input" value={decision} onChange={(e) => setDecision(e.target.value as typeof decision)}>
              <option value="rejected">rejected</option>
              <option value="complied">complied</option>
              <option value="partially_complied">partially complied</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`dec-note-${d.id}`}>Review note</label>
            <input id={`dec-note-${d.id}`} className="input" value={note} onChange={(e) => setNote(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`dec-produced-${d.id}`}>Exactly what was produced (one item per line; empty if rejected)</label>
            <textarea id={`dec-produced-${d.id}`} className="input" rows={3} value={produced} onChange={(e) => setProduced(e.target.value)} />
          </div>
          <button type="submit" className="button button-secondary">
            Record decision
          </button>
        </form>
      )}
      {d.userId && d.notification !== "sent" && (
        <div className="inline-form">
          <button type="button" className="button button-secondary" onClick={() => notify.mutate({ id: d.id, body: { status: "sent" } })}>
            Notify the user now
          </button>
          <form
            aria-label={`Defer notification for ${d.id}`}
            onSubmit={(e) => {
              e.preventDefault();
              notify.mutate({ id: d.id, body: { status: "deferred", reason, reviewAt } });
            }}
          >
            <div className="field">
              <label htmlFor={`defer-${d.id}`}>Reason to defer</label>
              <input id={`defer-${d.id}`} className="input" value={reason} onChange={(e) => setReason(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`review-${d.id}`}>Review date</label>
              <input id={`review-${d.id}`} type="date" className="input" value={reviewAt} onChange={(e) => setReviewAt(e.target.value)} />
            </div>
            <button type="submit" className="button button-secondary">
              Defer
            </button>
          </form>
        </div>
      )}
      {[decide, notify].map((m, i) => (m.isError ? <ErrorNotice key={i} title="Not saved" message={describeError(m.error)} /> : null))}
    </li>
  );
}

export function LegalDemands({ items }: { items: LegalDemand[] }) {
  return (
    <>
      <RecordForm />
      {items.length === 0 ? (
        <p>No legal demands recorded.</p>
      ) : (
        <ol className="admin-list" aria-label="Legal demands, newest first">
          {items.map((d) => (
            <DemandCard key={d.id} d={d} />
          ))}
        </ol>
      )}
    </>
  );
}
