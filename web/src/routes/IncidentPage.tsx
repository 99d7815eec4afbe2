import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { PageHeading } from "../components/PageHeading";
import { publicApi } from "../lib/api/client";
import { ApiError, describeError, unwrap } from "../lib/api/problem";
import { formatDateTime } from "../lib/format";
import { NotFound } from "./NotFound";
import "../components/pages.css";

/** A published incident post-mortem (GET /v1/incidents/{slug}). */
export default function IncidentPage() {
  const { slug = "" } = useParams();
  const q = useQuery({ queryKey: ["incident", slug], queryFn: async () => unwrap(await publicApi.GET("/v1/incidents/{slug}", { params: { path: { slug } } })) });
  if (q.isPending) return <Loading label="Loading the incident report" />;
  if (q.isError) return q.error instanceof ApiError && q.error.status === 404 ? <NotFound /> : <ErrorNotice title="Could not load the report" message={describeError(q.error)} />;
  const i = q.data;
  return (
    <article className="prose">
      <PageHeading title={`Incident: ${i.title}`} />
      <p className="lead">{i.summary}</p>
      <dl className="facts">
        <dt>Affected period</dt>
        <dd>
          {formatDateTime(i.windowStart)} to {formatDateTime(i.windowEnd)}
        </dd>
        <dt>Data concerned</dt>
        <dd>{i.dataKinds.join(", ")}</dd>
        <dt>We became aware</dt>
        <dd>{formatDateTime(i.awareAt)}</dd>
        <dt>Supervisory authority notified</dt>
        <dd>{i.authorityNotifiedAt ? formatDateTime(i.authorityNotifiedAt) : "not recorded"}</dd>
        <dt>Affected users notified</dt>
        <dd>{i.usersNotifiedAt ? `${i.affectedUsers ?? 0} people, ${formatDateTime(i.usersNotifiedAt)}` : "not yet"}</dd>
      </dl>
      <h2>What happened and what we changed</h2>
      {i.postMortem.split(/\n{2,}/).map((p, n) => (
        <p key={n}>{p}</p>
      ))}
      <p className="muted small">Published {formatDateTime(i.publishedAt)}.</p>
    </article>
  );
}
