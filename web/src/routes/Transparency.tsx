import { useQuery } from "@tanstack/react-query";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { PageHeading } from "../components/PageHeading";
import { publicApi } from "../lib/api/client";
import { describeError, unwrap } from "../lib/api/problem";
import { API_BASE } from "../lib/config";
import { formatDateTime } from "../lib/format";
import "../components/pages.css";

const TYPE_LABELS: Record<string, string> = { subpoena: "Subpoenas", court_order: "Court orders", search_warrant: "Search warrants", emergency: "Emergency requests", other: "Other" };
const OUTCOME_LABELS: Record<string, string> = { pending: "Under review", rejected: "Refused, nothing produced", complied: "Data produced", partially_complied: "Some data produced" };

/** The transparency report: generated from the legal-demand records by GET /v1/transparency, never written by hand. */
export default function Transparency() {
  const q = useQuery({ queryKey: ["transparency"], queryFn: async () => unwrap(await publicApi.GET("/v1/transparency")) });
  return (
    <article className="prose">
      <PageHeading title="Transparency report" />
      <p>
        Every demand for user data we receive from an authority is recorded with its type, the authority, the legal basis, our decision, exactly
        which data we produced, and whether we told the person concerned. This page counts those records; it is computed when you load it (also
        as data: <a href={`${API_BASE}/v1/transparency`}>/v1/transparency</a>).
      </p>
      {q.isPending && <Loading label="Loading the report" />}
      {q.isError && <ErrorNotice title="Could not load the report" message={describeError(q.error)} onRetry={() => void q.refetch()} />}
      {q.data && q.data.years.length === 0 && <p data-testid="transparency-empty">No legal demands have been received.</p>}
      {q.data?.years.map((y) => (
        <section key={y.year} aria-labelledby={`year-${y.year}`} data-testid="transparency-year">
          <h2 id={`year-${y.year}`}>{y.year}</h2>
          <p>
            {y.total} {y.total === 1 ? "demand" : "demands"}, concerning {y.accountsAffected} {y.accountsAffected === 1 ? "account" : "accounts"}; people
            told: {y.usersNotified}; telling deferred: {y.notificationsDeferred}.
          </p>
          <div className="table-wrap" role="region" aria-label={`Demands in ${y.year} by type and outcome`} tabIndex={0}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  {Object.keys(y.byOutcome).map((o) => (
                    <th scope="col" key={o}>
                      {OUTCOME_LABELS[o] ?? o}
                    </th>
                  ))}
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(y.byType).map(([t, n]) => (
                  <tr key={t}>
                    <th scope="row">{TYPE_LABELS[t] ?? t}</th>
                    {Object.keys(y.byOutcome).map((o) => (
                      <td key={o}>{y.counts.find((c) => c.type === t && c.outcome === o)?.count ?? 0}</td>
                    ))}
                    <td>{n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      {q.data && <p className="muted small">Generated {formatDateTime(q.data.generatedAt)}.</p>}
    </article>
  );
}
