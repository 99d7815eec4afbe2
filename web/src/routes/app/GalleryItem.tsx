import { useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { DeletionReceipt, type Receipt } from "../../components/DeletionReceipt";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { useApi } from "../../features/auth/useApi";
import { downloadOutput, GENERATION_ID, generationKeys, isRunning, useDeleteGeneration, useGeneration, type Generation } from "../../features/gallery/api";
import { GeneratedImage, PreviewBadge, PreviewLabel } from "../../features/gallery/GeneratedImage";
import { usePhotos } from "../../features/photos/api";
import { apiHref } from "../../lib/api/links";
import { AGE_LABELS, describeResemblance, GENDER_LABELS, STATUS_LABELS } from "../../features/gallery/labels";
import { ApiError, describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import "../../components/pages.css";

function Details({ g }: { g: Generation }) {
  return (
    <dl className="facts">
      <div>
        <dt>Status</dt>
        <dd data-testid="generation-status">{STATUS_LABELS[g.status]}</dd>
      </div>
      <div>
        <dt>Made</dt>
        <dd>
          <time dateTime={g.createdAt}>{formatDateTime(g.createdAt)}</time>
        </dd>
      </div>
      <div>
        <dt>Baby</dt>
        <dd>
          {GENDER_LABELS[g.options.gender]}, {AGE_LABELS[g.options.ageGroup].toLowerCase()}
        </dd>
      </div>
      <div>
        <dt>Resemblance</dt>
        <dd>{describeResemblance(g.options.resemblance)}</dd>
      </div>
      <div>
        <dt>Credits used</dt>
        <dd>{g.status === "failed" || g.status === "canceled" ? "0 (refunded)" : g.cost}</dd>
      </div>
      <div>
        <dt>Model</dt>
        <dd>{g.preview ? <PreviewLabel /> : <code>{g.model}</code>}</dd>
      </div>
    </dl>
  );
}

function Images({ g, onStale }: { g: Generation; onStale: () => void }) {
  const api = useApi();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const download = async (i: number) => {
    const output = g.outputs[i];
    if (!output) return;
    setBusy(output.id);
    setError(null);
    try {
      await downloadOutput(api, g.id, output);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  };
  return (
    <>
      {error && <ErrorNotice title="The download failed" message={error} />}
      <div className="side-by-side">
        <Parents g={g} />
        <ul className="result-list" aria-label={g.outputs.length === 1 ? "The picture" : `The ${g.outputs.length} pictures`}>
          {g.outputs.map((o, i) => (
            <li key={o.id} className="card result">
              <figure className="result-figure">
                <GeneratedImage
                  output={o}
                  alt={`Generated picture ${i + 1} of ${g.outputs.length}: a ${AGE_LABELS[g.options.ageGroup].toLowerCase()} who could be your baby`}
                  eager={i === 0}
                  onStale={onStale}
                  className="result-image"
                />
                {g.preview && <PreviewBadge />}
              </figure>
              <p>
                <button type="button" className="button" disabled={busy !== null} onClick={() => void download(i)}>
                  {busy === o.id ? "Preparing download…" : g.outputs.length > 1 ? `Download picture ${i + 1}` : "Download"}
                </button>
              </p>
            </li>
          ))}
        </ul>
      </div>
    </>
  );
}

/** The two photos the picture was made from, while they are still stored (by default they are deleted once it is ready). */
function Parents({ g }: { g: Generation }) {
  const photos = usePhotos();
  const parent = (id: string | null, who: "mother" | "father") => {
    const photo = id ? photos.data?.photos.find((p) => p.id === id) : undefined;
    const name = who === "mother" ? "Mother’s photo" : "Father’s photo";
    return (
      <figure className="parent-figure" data-testid={`parent-${who}`}>
        {photo?.url ? (
          <img src={apiHref(photo.url)} alt={name} width={photo.width} height={photo.height} loading="lazy" decoding="async" referrerPolicy="no-referrer" />
        ) : (
          <div className="parent-gone">{photos.isPending ? "Loading…" : "Deleted after the picture was made"}</div>
        )}
        <figcaption>{name}</figcaption>
      </figure>
    );
  };
  return (
    <section className="parents" aria-label="Made from">
      {parent(g.motherPhotoId, "mother")}
      {parent(g.fatherPhotoId, "father")}
    </section>
  );
}

/** The page when there is no picture to show (deleted, or never there), with the way back to the gallery. */
function NoPicture({ title, children }: { title: string; children: ReactNode }) {
  return (
    <>
      <PageHeading title={title} />
      {children}
      <p>
        <Link to="/app/gallery">Back to your pictures</Link>
      </p>
    </>
  );
}

export default function GalleryItem() {
  const { id = "" } = useParams();
  const [confirming, setConfirming] = useState(false);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  // Once deleted, asking for it again would only get a 404.
  const gen = useGeneration(id, receipt === null);
  const remove = useDeleteGeneration(id);
  const queryClient = useQueryClient();

  if (receipt) {
    return (
      <NoPicture title="Picture deleted">
        <p role="status">The picture, its record and any export that held it are gone. Links to it no longer work.</p>
        <DeletionReceipt receipt={receipt} />
      </NoPicture>
    );
  }

  const missing = !GENERATION_ID.test(id) || (gen.error instanceof ApiError && gen.error.status === 404);
  if (missing) {
    return (
      <NoPicture title="Picture not found">
        <p>There is no picture here. It may have been deleted.</p>
      </NoPicture>
    );
  }

  const g = gen.data;
  const confirmDelete = () =>
    remove.mutate(undefined, {
      onSuccess: (r) => {
        setConfirming(false);
        setReceipt(r);
        queryClient.removeQueries({ queryKey: generationKeys.one(id) });
      },
    });

  return (
    <>
      <PageHeading title={g?.status === "completed" ? "Your baby picture" : "Your picture"} />
      <p>
        <Link to="/app/gallery">← All pictures</Link>
      </p>
      {gen.isPending && <Loading label="Loading the picture" />}
      {gen.isError && !g && <ErrorNotice title="Could not load the picture" message={describeError(gen.error)} onRetry={() => void gen.refetch()} />}
      {g && (
        <>
          {g.status === "completed" && <Images g={g} onStale={() => void gen.refetch()} />}
          {isRunning(g) && (
            <div className="card">
              <label htmlFor="gen-progress">{STATUS_LABELS[g.status]}</label>
              <progress id="gen-progress" max={100} value={g.progress.percent}>
                {g.progress.percent} %
              </progress>
              <p className="muted small" role="status">
                {g.progress.percent} % done{g.progress.queuePosition !== null ? `, ${g.progress.queuePosition} ahead in the queue` : ""}.
              </p>
            </div>
          )}
          {g.status === "failed" && (
            <ErrorNotice title="This picture could not be made" message={`${g.error?.message ?? "The model did not return a picture."} Your credits were refunded.`} />
          )}
          {g.status === "canceled" && <p className="notice">This generation was canceled and its credits refunded.</p>}
          <section className="card" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <Details g={g} />
          </section>
          <section className="card" aria-labelledby="delete-title">
            <h2 id="delete-title">Delete</h2>
            <p>Deleting removes the picture and its record at once; any link to it stops working. You get a receipt.</p>
            <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>
              Delete this picture
            </button>
          </section>
          <ConfirmDialog
            open={confirming}
            title="Delete this picture?"
            confirmLabel="Delete picture"
            pendingLabel="Deleting…"
            danger
            pending={remove.isPending}
            error={remove.isError ? describeError(remove.error) : null}
            onConfirm={confirmDelete}
            onCancel={() => {
              setConfirming(false);
              remove.reset();
            }}
          >
            <p>
              This deletes {g.outputs.length > 1 ? `all ${g.outputs.length} images` : "the image"} and the generation&apos;s record now, and any data
              export that contains them. It cannot be undone.
              {isRunning(g) ? " The generation is still running: it is canceled and its credits refunded." : ""}
            </p>
            <p className="muted small">The parent photos follow your retention setting on the Settings page.</p>
          </ConfirmDialog>
        </>
      )}
    </>
  );
}
