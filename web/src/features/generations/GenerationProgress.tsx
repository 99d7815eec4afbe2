import { useEffect, useRef } from "react";
import { describeError } from "../../lib/api/problem";
import { useCancelGeneration, type Generation } from "./api";
import { plural } from "../../lib/format";

/** What each pipeline stage (worker/services/generation.ts) means to the person waiting. */
export function stageText(g: Pick<Generation, "stage" | "status"> & { progress: Pick<Generation["progress"], "queuePosition"> }): string {
  switch (g.stage) {
    case "queued":
      return "Waiting to start";
    case "submitting":
      return "Sending your photos to the model";
    case "in_queue": {
      const ahead = g.progress.queuePosition;
      if (ahead === null) return "Waiting in the model's queue";
      return ahead === 0
        ? "Next in the model's queue"
        : `Waiting in the model's queue: ${ahead} ${ahead === 1 ? "job" : "jobs"} ahead of yours`;
    }
    case "in_progress":
      return "The model is making your picture";
    case "finalizing":
      return "Checking and encrypting your picture";
    case "completed":
      return "Your picture is ready";
    case "failed":
      return "This generation failed";
    case "canceled":
      return "This generation was canceled";
    default:
      return g.status === "queued" ? "Waiting to start" : "Working on it";
  }
}

export function formatElapsed(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** Live progress while a generation runs, with Cancel. */
export function GenerationProgress({ generation, stale }: { generation: Generation; stale: unknown }) {
  const cancel = useCancelGeneration(generation.id);
  const errorRef = useRef<HTMLDivElement>(null);
  const { percent, elapsedSeconds } = generation.progress;
  useEffect(() => {
    if (cancel.isError) errorRef.current?.focus();
  }, [cancel.isError]);

  return (
    <section className="card progress-card" aria-labelledby="progress-title" data-testid="generation-progress">
      <h2 id="progress-title">Making your picture</h2>
      {/* The page's live region announces stage changes (routes/app/Generation.tsx); this is the visible copy. */}
      <p className="stage" data-testid="generation-stage">
        <span className="spinner" aria-hidden="true" />
        {stageText(generation)}…
      </p>
      <div className="generation-progress">
        <label htmlFor="generation-progress-bar">Progress: {percent}%</label>
        <progress id="generation-progress-bar" max={100} value={percent}>
          {percent}%
        </progress>
      </div>
      <dl className="facts compact">
        <div>
          <dt>Elapsed</dt>
          <dd data-testid="generation-elapsed">{formatElapsed(elapsedSeconds)}</dd>
        </div>
        <div>
          <dt>Queue position</dt>
          <dd>
            {generation.progress.queuePosition === null
              ? "—"
              : generation.progress.queuePosition === 0
                ? "Next"
                : generation.progress.queuePosition}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>
            {plural(generation.cost, "credit", "credits")}, refunded if it fails
          </dd>
        </div>
      </dl>
      {stale !== null && stale !== undefined && (
        <p className="notice" role="status">
          Could not refresh the progress ({describeError(stale)}). Still trying…
        </p>
      )}
      <p className="muted small">You can leave this page; the picture keeps being made and waits in your gallery.</p>
      {cancel.isError && (
        <div ref={errorRef} tabIndex={-1} role="alert" className="notice notice-error">
          <p>
            <strong>Could not cancel.</strong> {describeError(cancel.error)}
          </p>
        </div>
      )}
      <button type="button" className="button button-secondary" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
        {cancel.isPending ? "Canceling…" : "Cancel and refund"}
      </button>
    </section>
  );
}
