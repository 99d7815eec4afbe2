import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { describeError } from "../../lib/api/problem";
import { apiHref } from "../../lib/api/links";
import { PreviewBadge } from "../gallery/GeneratedImage";
import { useFocusIfLost } from "./useFocusIfLost";
import { generationKey, useDeleteGeneration, useDownloadLink, type DeletionReceipt, type Generation, type GenerationOutput } from "./api";

const AGE: Record<string, string> = { newborn: "newborn", toddler: "toddler", child: "child" };
const GENDER: Record<string, string> = { girl: "girl", boy: "boy", surprise: "baby" };

/** A result image from its signed link; an expired link fetches the generation again (new links) once. */
function OutputImage({
  generationId,
  output,
  index,
  count,
  label,
}: {
  generationId: string;
  output: GenerationOutput;
  index: number;
  count: number;
  label: string;
}) {
  const queryClient = useQueryClient();
  const retried = useRef(false);
  const [failed, setFailed] = useState(false);
  if (!output.url) return <p className="muted">This image has no link right now. Reload the page.</p>;
  if (failed) return <p className="notice notice-error">This image could not be loaded. Reload the page to try again.</p>;
  return (
    <img
      src={apiHref(output.url)}
      alt={`Picture ${index + 1} of ${count}: ${label}`}
      width={output.width ?? undefined}
      height={output.height ?? undefined}
      loading="lazy"
      decoding="async"
      data-testid="result-image"
      onError={() => {
        if (retried.current) {
          setFailed(true);
          return;
        }
        retried.current = true;
        void queryClient.invalidateQueries({ queryKey: generationKey(generationId) });
      }}
    />
  );
}

/** Saves through a signed `disposition=attachment` link: the browser downloads, the page stays. */
function startDownload(url: string) {
  const a = document.createElement("a");
  a.href = apiHref(url);
  a.download = "";
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
}

export function GenerationResult({ generation, onDeleted }: { generation: Generation; onDeleted: (receipt: DeletionReceipt) => void }) {
  const download = useDownloadLink(generation.id);
  const remove = useDeleteGeneration(generation.id);
  const [confirming, setConfirming] = useState(false);
  const [downloading, setDownloading] = useState<string | null>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  const heading = useFocusIfLost<HTMLHeadingElement>();
  const n = generation.outputs.length;
  const label = `a possible ${AGE[generation.options.ageGroup] ?? ""} ${GENDER[generation.options.gender] ?? "baby"}`.replace(/\s+/g, " ");

  useEffect(() => {
    if (download.isError) errorRef.current?.focus();
  }, [download.isError]);

  const save = (objectId: string) => {
    setDownloading(objectId);
    download.mutate(objectId, {
      onSuccess: ({ url }) => startDownload(url),
      onSettled: () => setDownloading(null),
    });
  };

  return (
    <section aria-labelledby="result-title" data-testid="generation-result">
      <h2 id="result-title" ref={heading} tabIndex={-1}>
        {n === 1 ? "Your picture" : `Your ${n} pictures`}
      </h2>
      {generation.preview && (
        <p className="notice notice-preview" data-testid="preview-note">
          <strong>PREVIEW — NOT AI.</strong> This copy of BabyPic runs on a local stand-in for the AI model: the image is a labelled collage
          of your two photos, not a prediction of your baby.
        </p>
      )}
      {n === 0 ? (
        <p className="muted">This generation finished without images.</p>
      ) : (
        <ul className="result-grid">
          {generation.outputs.map((o, i) => (
            <li key={o.id} className="card result-item">
              <figure className="result-figure">
                <OutputImage generationId={generation.id} output={o} index={i} count={n} label={label} />
                {generation.preview && <PreviewBadge />}
              </figure>
              <button type="button" className="button button-small" disabled={downloading !== null} onClick={() => save(o.id)}>
                {downloading === o.id ? "Preparing download…" : "Download"}
                <span className="visually-hidden">
                  {" "}
                  picture {i + 1} of {n}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {download.isError && (
        <div ref={errorRef} tabIndex={-1} role="alert" className="notice notice-error">
          <p>
            <strong>Could not start the download.</strong> {describeError(download.error)}
          </p>
        </div>
      )}
      <p className="muted small">
        Only you can open these images: the links expire within an hour and stop working as soon as you delete them.
      </p>
      <p>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => {
            remove.reset();
            setConfirming(true);
          }}
        >
          Delete this generation
        </button>
      </p>
      <ConfirmDialog
        open={confirming}
        title="Delete this generation?"
        confirmLabel="Delete for good"
        pendingLabel="Deleting…"
        pending={remove.isPending}
        danger
        error={remove.isError ? describeError(remove.error) : null}
        onCancel={() => setConfirming(false)}
        onConfirm={() =>
          remove.mutate(undefined, {
            onSuccess: (receipt) => {
              setConfirming(false);
              onDeleted(receipt);
            },
          })
        }
      >
        <p>
          This deletes {n === 1 ? "the image" : `all ${n} images`} and the record of this generation at once; their links stop working. It
          cannot be undone. Parent photos follow their own retention.
        </p>
      </ConfirmDialog>
    </section>
  );
}
