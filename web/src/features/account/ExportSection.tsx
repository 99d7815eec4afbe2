import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { ApiError, describeError, isReverificationRequired } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { apiHref } from "../../lib/api/links";
import { exportRunning, useLatestExport, useRequestExport, useUnlockExport, type ExportJob } from "./api";

function Progress({ job }: { job: ExportJob }) {
  return (
    <div>
      <label htmlFor="export-progress">{job.status === "queued" ? "Export waiting to start" : "Building your export"}</label>
      <progress id="export-progress" max={100} value={job.progress}>
        {job.progress} %
      </progress>
      <p className="muted small" role="status">
        {job.progress} % done. You can leave this page; the export keeps going.
      </p>
    </div>
  );
}

/** GDPR Art. 15/20: request a ZIP of everything, watch it build, download it within the hour. */
export function ExportSection() {
  const { latest, job } = useLatestExport();
  const request = useRequestExport();
  const e = job.data;
  const expired = job.error instanceof ApiError && job.error.status === 404;
  const locked = isReverificationRequired(job.error);
  const unlock = useUnlockExport(latest.data ?? null);
  const canRequest = !e || !exportRunning(e) || expired;

  return (
    <section className="card" aria-labelledby="export-title" data-testid="export-section">
      <h2 id="export-title">Download your data</h2>
      <p>
        A ZIP file with everything BabyPic holds about you: your account, every picture with its details and any parent photos still kept, your
        activity log, your payments and credit history, and our privacy facts. A <code>manifest.json</code> lists a SHA-256 checksum for every
        file. The export is deleted one hour after it is ready.
      </p>
      {(latest.isPending || (job.isPending && job.fetchStatus === "fetching")) && <Loading label="Checking for a recent export" />}
      {latest.isError && <ErrorNotice title="Could not check for exports" message={describeError(latest.error)} onRetry={() => void latest.refetch()} />}
      {locked && (
        <div className="notice" data-testid="export-locked">
          <p role="status">Your export is ready. Downloading everything at once needs a sign-in check from the last 10 minutes.</p>
          <button type="button" className="button" disabled={unlock.isPending} onClick={() => unlock.mutate()}>
            {unlock.isPending ? "Checking…" : "Confirm it's you to download"}
          </button>
          {unlock.isError && <ErrorNotice title="Could not unlock the download" message={describeError(unlock.error)} />}
        </div>
      )}
      {job.isError && !expired && !locked && <ErrorNotice title="Could not load the export" message={describeError(job.error)} onRetry={() => void job.refetch()} />}
      {expired && <p>Your last export has expired and was deleted.</p>}
      {e && !expired && exportRunning(e) && <Progress job={e} />}
      {e && !expired && e.status === "failed" && <ErrorNotice title="The export failed" message={e.error ?? "Please request a new one."} />}
      {e && !expired && e.status === "ready" && (
        <div className="notice notice-success" data-testid="export-ready">
          <p role="status">
            Your export is ready. It is deleted at <time dateTime={e.expiresAt}>{formatDateTime(e.expiresAt)}</time>.
          </p>
          {e.download ? (
            <p>
              <a className="button" href={apiHref(e.download.url)} download>
                Download ZIP
              </a>{" "}
              <span className="muted small">
                This link works until <time dateTime={e.download.expiresAt}>{formatDateTime(e.download.expiresAt)}</time>.
              </span>
            </p>
          ) : (
            <Loading label="Preparing the download link" />
          )}
        </div>
      )}
      {request.isError && <ErrorNotice title="Could not start the export" message={describeError(request.error)} />}
      {canRequest && (
        <button type="button" className={e?.status === "ready" && !expired ? "button button-secondary" : "button"} disabled={request.isPending} onClick={() => request.mutate()}>
          {request.isPending ? "Requesting…" : e && !expired ? "Make a new export" : "Export my data"}
        </button>
      )}
    </section>
  );
}
