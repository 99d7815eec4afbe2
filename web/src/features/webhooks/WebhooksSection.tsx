import { useEffect, useRef, useState, type FormEvent } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { QueryStatus } from "../../components/QueryStatus";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import {
  EVENT_DESCRIPTIONS,
  useCreateWebhookEndpoint,
  useDeleteWebhookEndpoint,
  useRotateWebhookSecret,
  useTestWebhook,
  useWebhookDeliveries,
  useWebhookEndpoints,
  WEBHOOK_EVENTS,
  type WebhookEndpoint,
  type WebhookEndpointWithSecret,
  type WebhookEvent,
  type WebhookTestResult,
} from "./api";

/** The signing secret of an endpoint just created or rotated: shown once. */
function NewSecret({ endpoint, onDone }: { endpoint: WebhookEndpointWithSecret; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="card secret-card" aria-labelledby="new-webhook-secret-title" data-testid="new-webhook-secret">
      <h3 id="new-webhook-secret-title" ref={heading} tabIndex={-1}>
        Signing secret for {endpoint.url}
      </h3>
      <p className="notice notice-warning">
        <strong>Copy it now: this is the only time it is shown.</strong> Use it to verify each delivery (Standard Webhooks; e.g. svix&apos;s{" "}
        <code>Webhook.verify</code>).
        {endpoint.previousSecretExpiresAt && (
          <> The previous secret keeps signing too until {formatDateTime(endpoint.previousSecretExpiresAt)}.</>
        )}
      </p>
      <label htmlFor="new-webhook-secret">Secret</label>
      <input id="new-webhook-secret" className="input mono" readOnly value={endpoint.secret} onFocus={(e) => e.currentTarget.select()} spellCheck={false} />
      <p>
        <button type="button" className="button button-secondary" onClick={onDone}>
          I have stored it, hide the secret
        </button>
      </p>
    </section>
  );
}

function Deliveries({ id }: { id: string }) {
  const log = useWebhookDeliveries(id, true);
  if (!log.isSuccess) return <QueryStatus query={log} loading="Loading deliveries" failed="Could not load deliveries" />;
  if (log.data.deliveries.length === 0) return <p className="small">No deliveries yet.</p>;
  return (
    <table className="table small" data-testid="webhook-deliveries">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Event</th>
          <th scope="col">Attempt</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {log.data.deliveries.map((d) => (
          <tr key={d.id}>
            <td>
              <time dateTime={d.at}>{formatDateTime(d.at)}</time>
            </td>
            <td>
              <code>{d.eventType}</code>
            </td>
            <td>{d.attempt}</td>
            <td>
              {d.errorClass === null ? `Delivered (${d.statusCode ?? ""})` : `${d.errorClass}${d.statusCode ? ` (${d.statusCode})` : ""}`}
              {d.final && d.errorClass !== null ? ", gave up" : ""}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EndpointRow({ e, onSecret, onDelete }: { e: WebhookEndpoint; onSecret: (x: WebhookEndpointWithSecret) => void; onDelete: (x: WebhookEndpoint) => void }) {
  const rotate = useRotateWebhookSecret();
  const test = useTestWebhook();
  const [result, setResult] = useState<WebhookTestResult | null>(null);
  const [showLog, setShowLog] = useState(false);
  return (
    <li className="card key" data-testid="webhook-endpoint" data-endpoint-id={e.id}>
      <h3 className="mono">{e.url}</h3>
      <p>
        {e.events.map((ev) => (
          <code key={ev} className="tag">
            {ev}
          </code>
        ))}
      </p>
      <p className="small">Added <time dateTime={e.createdAt}>{formatDateTime(e.createdAt)}</time></p>
      <div className="copy-row">
        <button type="button" className="button button-small" disabled={test.isPending} onClick={() => test.mutate(e.id, { onSuccess: setResult })}>
          {test.isPending ? "Sending…" : "Send test event"}
        </button>
        <button type="button" className="button button-secondary button-small" disabled={rotate.isPending} onClick={() => rotate.mutate(e.id, { onSuccess: onSecret })}>
          Rotate secret
        </button>
        <button type="button" className="button button-secondary button-small" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
          {showLog ? "Hide deliveries" : "Recent deliveries"}
        </button>
        <button type="button" className="button button-danger button-small" onClick={() => onDelete(e)} aria-label={`Delete the endpoint ${e.url}`}>
          Delete
        </button>
      </div>
      <p role="status" className="small" data-testid="webhook-test-result">
        {result ? (result.delivered ? `Test delivered (HTTP ${result.statusCode ?? ""}).` : `Test failed: ${result.errorClass ?? "error"}${result.statusCode ? ` (HTTP ${result.statusCode})` : ""}.`) : ""}
        {test.isError ? describeError(test.error) : ""}
        {rotate.isError ? describeError(rotate.error) : ""}
      </p>
      {showLog && <Deliveries id={e.id} />}
    </li>
  );
}

function AddEndpointForm({ onCreated }: { onCreated: (x: WebhookEndpointWithSecret) => void }) {
  const create = useCreateWebhookEndpoint();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>(["generation.completed", "generation.failed"]);
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    create.mutate(
      { url: url.trim(), events },
      {
        onSuccess: (x) => {
          setUrl("");
          onCreated(x);
        },
      },
    );
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-webhook-title">
      <h3 id="add-webhook-title">Add an endpoint</h3>
      <div className="field">
        <label htmlFor="webhook-url">HTTPS URL</label>
        <input id="webhook-url" className="input" type="url" required placeholder="https://example.com/babypic-webhook" value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
      </div>
      <fieldset className="field">
        <legend>Events</legend>
        <ul className="checkbox-list">
          {WEBHOOK_EVENTS.map((ev) => (
            <li key={ev}>
              <input
                id={`webhook-event-${ev}`}
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) => setEvents(e.currentTarget.checked ? [...events, ev] : events.filter((x) => x !== ev))}
              />
              <label htmlFor={`webhook-event-${ev}`}>
                <code>{ev}</code> <span className="muted">{EVENT_DESCRIPTIONS[ev]}</span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      {create.isError && <p className="notice notice-error" role="alert">{describeError(create.error)}</p>}
      <button type="submit" className="button" disabled={create.isPending || events.length === 0 || url.trim() === ""}>
        {create.isPending ? "Adding…" : "Add endpoint"}
      </button>
    </form>
  );
}

/** Webhook endpoints on the API page: list, add, show the secret once, rotate, test-send, delete, recent deliveries. */
export function WebhooksSection() {
  const endpoints = useWebhookEndpoints();
  const remove = useDeleteWebhookEndpoint();
  const [secret, setSecret] = useState<WebhookEndpointWithSecret | null>(null);
  const [deleting, setDeleting] = useState<WebhookEndpoint | null>(null);
  const list = endpoints.data?.endpoints ?? [];
  return (
    <section aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p>
        BabyPic can tell your server when a picture is ready or failed, an export is ready, or your account is deleted. Each notice carries ids and
        status only (never photos, links or your email) and is signed so you can check it came from us.
      </p>
      {secret && <NewSecret endpoint={secret} onDone={() => setSecret(null)} />}
      <AddEndpointForm onCreated={setSecret} />
      <QueryStatus query={endpoints} loading="Loading your endpoints" failed="Could not load your endpoints" />
      {endpoints.isSuccess && list.length === 0 && <p>You have no webhook endpoints.</p>}
      {list.length > 0 && (
        <ul className="key-list">
          {list.map((e) => (
            <EndpointRow key={e.id} e={e} onSecret={setSecret} onDelete={setDeleting} />
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this endpoint?"
        confirmLabel="Delete endpoint"
        pendingLabel="Deleting…"
        danger
        pending={remove.isPending}
        error={remove.isError ? describeError(remove.error) : null}
        onConfirm={() => {
          if (deleting) remove.mutate(deleting.id, { onSuccess: () => setDeleting(null) });
        }}
        onCancel={() => {
          setDeleting(null);
          remove.reset();
        }}
      >
        <p>No more events are sent to {deleting?.url}; its delivery log is deleted too.</p>
      </ConfirmDialog>
    </section>
  );
}
