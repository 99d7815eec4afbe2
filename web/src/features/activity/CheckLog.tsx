import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { useCheckActivityLog } from "./verify";

/**
 * "Check my activity log": verifies the hash chain and every signed
 * checkpoint in this browser (worker/lib/audit-verify.ts) and says in plain
 * words whether the log is intact or where it first breaks.
 */
export function CheckLog() {
  const check = useCheckActivityLog();
  const result = check.data?.result;
  return (
    <section className="activity-check" aria-labelledby="activity-check-title">
      <h2 id="activity-check-title">Check my activity log</h2>
      <p className="muted small">
        Your browser downloads the whole log, BabyPic&apos;s signed checkpoints and its public keys, and checks them itself: that every entry
        links to the one before, and that every checkpoint is a valid signature over the log as it is now. A checkpoint you saved earlier (in a
        data export) also shows whether entries were rewritten since; see the Security page for what this can and cannot prove.
      </p>
      <p>
        <button type="button" className="button button-secondary" disabled={check.isPending} onClick={() => check.mutate()} data-testid="check-log">
          {check.isPending ? "Checking…" : "Check my activity log"}
        </button>
      </p>
      <div role="status" aria-live="polite">
        {result && (
          <p className={result.ok ? "activity-check-ok" : "activity-check-broken"} data-testid="check-log-result" data-ok={String(result.ok)}>
            {check.data?.text}
          </p>
        )}
      </div>
      {check.isError && <ErrorNotice title="Could not check your activity log" message={describeError(check.error)} onRetry={() => check.mutate()} />}
    </section>
  );
}
