import { useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { keyState, useApiKeys, useRevokeApiKey, type ApiKey, type CreatedApiKey } from "../../features/api-keys/api";
import { CreateKeyForm } from "../../features/api-keys/CreateKeyForm";
import { NewKeySecret } from "../../features/api-keys/NewKeySecret";
import { WebhooksSection } from "../../features/webhooks/WebhooksSection";
import { describeError } from "../../lib/api/problem";
import { API_BASE } from "../../lib/config";
import { formatDateTime } from "../../lib/format";
import "../../components/pages.css";

const STATE_LABELS = { active: "Active", revoked: "Revoked", expired: "Expired" } as const;

function KeyRow({ k, onRevoke }: { k: ApiKey; onRevoke: (k: ApiKey) => void }) {
  const state = keyState(k);
  return (
    <li className={`card key key-${state}`} data-testid="api-key" data-key-id={k.id}>
      <h3>{k.name}</h3>
      <dl className="facts compact">
        <div>
          <dt>Starts with</dt>
          <dd>
            <code>{k.prefix}…</code>
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd data-testid="api-key-state">
            {STATE_LABELS[state]}
            {state === "revoked" && k.revokedAt && (
              <>
                {" "}
                on <time dateTime={k.revokedAt}>{formatDateTime(k.revokedAt)}</time>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Permissions</dt>
          <dd>
            {k.scopes.map((s) => (
              <code key={s} className="tag">
                {s}
              </code>
            ))}
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <time dateTime={k.createdAt}>{formatDateTime(k.createdAt)}</time>
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>{k.expiresAt ? <time dateTime={k.expiresAt}>{formatDateTime(k.expiresAt)}</time> : "Never"}</dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>{k.lastUsedAt ? <time dateTime={k.lastUsedAt}>{formatDateTime(k.lastUsedAt)}</time> : "Never"}</dd>
        </div>
      </dl>
      {state === "active" && (
        <button type="button" className="button button-danger button-small" onClick={() => onRevoke(k)} aria-label={`Revoke the key “${k.name}”`}>
          Revoke
        </button>
      )}
    </li>
  );
}

export default function ApiKeys() {
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const list = keys.data?.pages.flatMap((p) => p.keys) ?? [];

  return (
    <>
      <PageHeading title="API keys" />
      <p>
        API keys let your own programs use BabyPic on your behalf, under the same rules as you: they see only your data, and every use appears in
        your activity log. See the <a href={`${API_BASE}/v1/docs`}>API documentation</a>.
      </p>
      {created && <NewKeySecret created={created} onDone={() => setCreated(null)} />}
      <CreateKeyForm onCreated={setCreated} />

      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Your keys</h2>
        {keys.isPending && <Loading label="Loading your keys" />}
        {keys.isError && !keys.data && <ErrorNotice title="Could not load your keys" message={describeError(keys.error)} onRetry={() => void keys.refetch()} />}
        {keys.isSuccess && list.length === 0 && <p>You have no API keys.</p>}
        {list.length > 0 && (
          <ul className="key-list">
            {list.map((k) => (
              <KeyRow key={k.id} k={k} onRevoke={setRevoking} />
            ))}
          </ul>
        )}
        {keys.hasNextPage && (
          <button type="button" className="button button-secondary" disabled={keys.isFetchingNextPage} onClick={() => void keys.fetchNextPage()}>
            {keys.isFetchingNextPage ? "Loading more…" : "Load more"}
          </button>
        )}
      </section>

      <WebhooksSection />

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke key"
        pendingLabel="Revoking…"
        danger
        pending={revoke.isPending}
        error={revoke.isError ? describeError(revoke.error) : null}
        onConfirm={() => {
          if (revoking) revoke.mutate(revoking.id, { onSuccess: () => setRevoking(null) });
        }}
        onCancel={() => {
          setRevoking(null);
          revoke.reset();
        }}
      >
        <p>The key stops working at once. Programs using it get “unauthorized” from now on. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}
