import { useState } from "react";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { apiHref } from "../../lib/api/links";
import { isReusable, usePhotos, type Photo } from "./api";

/**
 * "Use a photo you uploaded earlier": the user's photos that retention still
 * keeps (GET /v1/photos, thumbnails through signed links). Loaded only when
 * opened, so the page does not list photos (an audited access) unasked.
 */
export function PhotoPicker({
  parent,
  excludeId,
  onChoose,
}: {
  parent: string;
  excludeId: string | null;
  onChoose: (photo: Photo) => void;
}) {
  const [open, setOpen] = useState(false);
  const photos = usePhotos(open);
  const usable = (photos.data?.photos ?? []).filter((p) => p.id !== excludeId && isReusable(p));

  return (
    <details className="reuse" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        Use a photo you uploaded earlier<span className="visually-hidden"> for the {parent}</span>
      </summary>
      {open && (
        <div className="reuse-body">
          {photos.isPending && (
            <p role="status" className="loading">
              <span className="spinner" aria-hidden="true" />
              Loading your photos…
            </p>
          )}
          {photos.isError && (
            <div role="alert" className="notice notice-error">
              <p>
                <strong>Could not load your photos.</strong> {describeError(photos.error)}
              </p>
              <button type="button" className="button button-secondary button-small" onClick={() => void photos.refetch()}>
                Try again
              </button>
            </div>
          )}
          {photos.isSuccess && usable.length === 0 && (
            <p className="muted">
              No earlier photos to reuse. Photos no generation used are deleted 24 hours after upload, and parent photos once their picture
              is made (unless you chose to keep them).
            </p>
          )}
          {usable.length > 0 && (
            <ul className="reuse-list">
              {usable.map((p) => (
                <li key={p.id}>
                  <button type="button" className="reuse-item" onClick={() => onChoose(p)}>
                    {p.url && <img src={apiHref(p.url)} alt="" width={p.width} height={p.height} loading="lazy" decoding="async" />}
                    <span>
                      Use the photo uploaded {formatDateTime(p.createdAt)}
                      <span className="visually-hidden"> for the {parent}</span>
                      <span className="muted small">
                        {" "}
                        ({p.width} × {p.height})
                      </span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </details>
  );
}
