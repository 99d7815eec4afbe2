import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { useActivity, type AuditEntry } from "../../features/activity/api";
import { CheckLog } from "../../features/activity/CheckLog";
import { actorLabel, describeUserAgent } from "../../features/activity/describe";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import "../../components/pages.css";

function Entry({ e }: { e: AuditEntry }) {
  const device = describeUserAgent(e.userAgent);
  const where = [e.ipPrefix ? `network ${e.ipPrefix}` : null, device].filter(Boolean).join(" · ");
  const support = e.actor.type === "support" || e.action.startsWith("support.");
  return (
    <li className={`activity ${support ? "activity-support" : ""}`} data-testid="activity-entry" data-action={e.action}>
      <span className={`tag actor-${e.actor.type}`}>{actorLabel(e)}</span>
      <p className="activity-summary">{e.summary}</p>
      <p className="muted small">
        <time dateTime={e.at}>{formatDateTime(e.at)}</time>
        {where && <> · {where}</>}
        {e.target && (
          <>
            {" "}
            · <span className="visually-hidden">item </span>
            <code>{e.target.id.length > 16 ? `${e.target.id.slice(0, 16)}…` : e.target.id}</code>
          </>
        )}
      </p>
    </li>
  );
}

export default function Activity() {
  const activity = useActivity();
  const entries = activity.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <PageHeading title="Activity" />
      <p>
        Every access to your data is recorded here: who (you, one of your API keys, someone holding a private link, BabyPic itself or our support
        staff), what, when and from where. Network addresses are shortened to the first three parts, so they show the network, not your device.
      </p>
      <p className="muted small">
        Each entry holds a fingerprint of the one before it (a hash chain), and BabyPic signs the newest fingerprint at least daily, on every
        export and when you delete your account. Opening this page is recorded too. Support staff must state a reason, which you see here.
      </p>
      <CheckLog />
      {activity.isPending && <Loading label="Loading your activity" />}
      {activity.isError && !activity.data && (
        <ErrorNotice title="Could not load your activity" message={describeError(activity.error)} onRetry={() => void activity.refetch()} />
      )}
      {activity.isSuccess && entries.length === 0 && <p>Nothing recorded yet.</p>}
      {entries.length > 0 && (
        <ol className="activity-list" aria-label="Activity, newest first">
          {entries.map((e) => (
            <Entry key={e.id} e={e} />
          ))}
        </ol>
      )}
      {activity.hasNextPage && (
        <p>
          <button type="button" className="button button-secondary" disabled={activity.isFetchingNextPage} onClick={() => void activity.fetchNextPage()}>
            {activity.isFetchingNextPage ? "Loading older entries…" : "Load older entries"}
          </button>
        </p>
      )}
      {activity.isFetchNextPageError && (
        <ErrorNotice title="Could not load older entries" message={describeError(activity.error)} onRetry={() => void activity.fetchNextPage()} />
      )}
    </>
  );
}
