import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { DeletionReceipt } from "../../components/DeletionReceipt";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import {
  generationKey,
  useGeneration,
  type DeletionReceipt as Receipt,
  type Generation as GenerationT,
} from "../../features/generations/api";
import { GenerationProgress, formatElapsed, stageText } from "../../features/generations/GenerationProgress";
import { GenerationResult } from "../../features/generations/GenerationResult";
import { useFocusIfLost } from "../../features/generations/useFocusIfLost";
import { ApiError, describeError } from "../../lib/api/problem";
import "../../components/pages.css";
import "../../features/create/create.css";
import { plural } from "../../lib/format";

const GENERATION_ID = /^gen_[0-9a-f]{32}$/;

function Ended({ generation }: { generation: GenerationT }) {
  const heading = useFocusIfLost<HTMLHeadingElement>();
  const credits = plural(generation.cost, "credit", "credits");
  const failed = generation.status === "failed";
  return (
    <section className="card" aria-labelledby="ended-title" data-testid="generation-ended">
      <h2 id="ended-title" ref={heading} tabIndex={-1}>
        {failed ? "This generation failed" : "This generation was canceled"}
      </h2>
      {failed ? (
        <p role="alert" className="notice notice-error" data-testid="generation-error">
          {generation.error?.message || "The model could not make a picture this time."}
        </p>
      ) : (
        <p>It stopped before a picture was made.</p>
      )}
      <p>
        <strong>
          Your {credits} {generation.cost === 1 ? "was" : "were"} refunded.
        </strong>{" "}
        Nothing was charged. It ran for {formatElapsed(generation.progress.elapsedSeconds)}.
      </p>
      <p>
        <Link to="/app/create" className="button">
          Try again
        </Link>
      </p>
    </section>
  );
}

function Deleted({ id, receipt }: { id: string; receipt: Receipt }) {
  const queryClient = useQueryClient();
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // The generation is gone; its cached copy must not be shown again (or refetched into a 404).
    queryClient.removeQueries({ queryKey: generationKey(id) });
    ref.current?.focus();
  }, [queryClient, id]);
  return (
    <>
      <h2 ref={ref} tabIndex={-1}>
        Deleted. The images and their links are gone.
      </h2>
      <DeletionReceipt receipt={receipt} headingLevel={3} />
      <p className="actions">
        <Link to="/app/create" className="button">
          Make another picture
        </Link>
      </p>
    </>
  );
}

function GenerationView({ id, onDeleted }: { id: string; onDeleted: (r: Receipt) => void }) {
  const gen = useGeneration(id);
  const status = gen.data?.status;
  const stage = gen.data ? stageText(gen.data) : null;

  // The tab title follows the stage, so a background tab shows when it is done.
  useEffect(() => {
    if (stage) document.title = `${status === "completed" ? "Ready" : stage} · BabyPic`;
  }, [stage, status]);

  if (gen.isPending) return <Loading label="Loading your generation" />;
  if (gen.isError && !gen.data) {
    const missing = gen.error instanceof ApiError && gen.error.status === 404;
    return (
      <ErrorNotice
        title={missing ? "No such generation" : "Could not load this generation"}
        message={missing ? "It does not exist, was deleted, or belongs to another account." : describeError(gen.error)}
        onRetry={missing ? undefined : () => void gen.refetch()}
      />
    );
  }
  const g = gen.data;
  if (!g) return null;
  return (
    <>
      {/* One live region for the whole page, so the stage changes and the end ("ready", "failed") are announced
          even though the progress card is replaced; the percentage is not announced, to keep screen readers quiet. */}
      <p role="status" className="visually-hidden" data-testid="generation-announcer">
        {stageText(g)}
      </p>
      {g.status === "completed" ? (
        <GenerationResult generation={g} onDeleted={onDeleted} />
      ) : g.status === "failed" || g.status === "canceled" ? (
        <Ended generation={g} />
      ) : (
        <GenerationProgress generation={g} stale={gen.isRefetchError ? gen.error : null} />
      )}
    </>
  );
}

/** /app/generations/:id: live progress, then the result (or why it ended). */
export default function Generation() {
  const { id = "" } = useParams();
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  return (
    <>
      <PageHeading title="Your baby picture" />
      {!GENERATION_ID.test(id) ? (
        <ErrorNotice title="No such generation" message="This address does not name a generation." />
      ) : receipt ? (
        <Deleted id={id} receipt={receipt} />
      ) : (
        <GenerationView id={id} onDeleted={setReceipt} />
      )}
    </>
  );
}
