import { useId, useMemo, useState } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { useActivity, type AuditEntry } from "../../features/activity/api";
import { CheckLog } from "../../features/activity/CheckLog";
import { actorLabel, describeUserAgent } from "../../features/activity/describe";
import {
  ACTOR_FILTERS,
  groupActivity,
  KIND_FILTERS,
  OTHER_LABELS,
  type ActivityEvent,
  type ActorFilter,
  type KindFilter,
} from "../../features/activity/group";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import "../../components/pages.css";

/** One raw entry, shown only once its event is expanded: here the ids appear. */
function Entry({ e }: { e: AuditEntry }) {
  const device = describeUserAgent(e.userAgent);
  const where = [e.ipPrefix ? `network ${e.ipPrefix}` : null, device].filter(Boolean).join(" · ");
  return (
    <li className="activity" data-testid="activity-entry" data-action={e.action}>
      <span className={`tag actor-${e.actor.type}`}>{actorLabel(e)}</span>
      <p className="activity-summary">{e.summary}</p>
      <p className="muted small">
        <time dateTime={e.at}>{formatDateTime(e.at)}</time>
        {where && <> · {where}</>}
      </p>
      <p className="muted small activity-ids">
        Entry {e.seq}
        {e.target && (
          <>
            {" "}
            · {e.target.type} <code>{e.target.id}</code>
          </>
        )}
        {e.requestId && (
          <>
            {" "}
            · request <code>{e.requestId}</code>
          </>
        )}
      </p>
    </li>
  );
}

function When({ ev }: { ev: ActivityEvent }) {
  return (
    <p className="muted small">
      <time dateTime={ev.end}>{formatDateTime(ev.end)}</time>
      {ev.entries.length > 1 && ev.start !== ev.end && (
        <>
          {" "}
          (from <time dateTime={ev.start}>{formatDateTime(ev.start)}</time>)
        </>
      )}
    </p>
  );
}

function Event({ ev }: { ev: ActivityEvent }) {
  const n = ev.entries.length;
  const cls = ["activity-event", ev.other ? "activity-other" : "", ev.other === "support" ? "activity-support" : ""].filter(Boolean).join(" ");
  return (
    <li className={cls} data-testid="activity-event" data-other={ev.other ?? undefined}>
      <p className="activity-title">
        {ev.other && <span className={`tag other-${ev.other}`}>{OTHER_LABELS[ev.other]}</span>} {ev.title}
      </p>
      {ev.lines.map((line, i) => (
        <p key={i} className="activity-line">
          {line}
        </p>
      ))}
      <When ev={ev} />
      <details className="activity-details">
        <summary>{n === 1 ? "Show the entry" : `Show the ${n} entries`}</summary>
        <ol className="activity-list">
          {[...ev.entries].reverse().map((e) => (
            <Entry key={e.id} e={e} />
          ))}
        </ol>
      </details>
    </li>
  );
}

/** A labelled filter: one select among `options`. */
function FilterSelect<V extends string>({ label, options, value, onChange }: { label: string; options: readonly { value: V; label: string }[]; value: V; onChange: (value: V) => void }) {
  const id = useId();
  return (
    <label htmlFor={id}>
      {label}
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as V)}>
        {options.map((f) => (
          <option key={f.value} value={f.value}>
            {f.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A titled list of events, newest first; nothing when there are none. */
function EventSection({ id, title, events }: { id: string; title: string; events: readonly ActivityEvent[] }) {
  if (events.length === 0) return null;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <ol className="activity-list" aria-label={`${title}, newest first`}>
        {events.map((ev) => (
          <Event key={ev.key} ev={ev} />
        ))}
      </ol>
    </section>
  );
}

export default function Activity() {
  const activity = useActivity();
  const [actor, setActor] = useState<ActorFilter>("all");
  const [kind, setKind] = useState<KindFilter>("all");
  const entries = useMemo(() => activity.data?.pages.flatMap((p) => p.items) ?? [], [activity.data]);
  const { others, own } = useMemo(() => groupActivity(entries, { actor, kind }), [entries, actor, kind]);
  const filtered = actor !== "all" || kind !== "all";
  return (
    <>
      <PageHeading title="Activity" />
      <p>
        Every access to your data is recorded here: who (you, one of your API keys, someone holding a private link, BabyPic itself or our support
        staff), what, when and from where. Accesses by anyone but you come first. Network addresses are shortened to the first three parts, so
        they show the network, not your device.
      </p>
      <p className="muted small">
        Each entry holds a fingerprint of the one before it (a hash chain), and BabyPic signs the newest fingerprint at least daily, on every
        export and when you delete your account. Opening this page is recorded too. Support staff must state a reason, which you see here. Open an
        event to see each entry it groups, with its ids; your data export and the API hold every entry as recorded.
      </p>
      <CheckLog />
      <div className="activity-filters" role="group" aria-label="Filter your activity">
        <FilterSelect label="Who" options={ACTOR_FILTERS} value={actor} onChange={setActor} />
        <FilterSelect label="What" options={KIND_FILTERS} value={kind} onChange={setKind} />
      </div>
      {activity.isPending && <Loading label="Loading your activity" />}
      {activity.isError && !activity.data && (
        <ErrorNotice title="Could not load your activity" message={describeError(activity.error)} onRetry={() => void activity.refetch()} />
      )}
      {activity.isSuccess && entries.length === 0 && <p>Nothing recorded yet.</p>}
      {entries.length > 0 && others.length + own.length === 0 && filtered && <p>Nothing matches these filters in the entries loaded so far.</p>}
      <EventSection id="activity-others-title" title="Access by others" events={others} />
      <EventSection id="activity-own-title" title="Your activity" events={own} />
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
