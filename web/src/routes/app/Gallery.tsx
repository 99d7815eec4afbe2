import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { isRunning, useGenerations, type Generation } from "../../features/gallery/api";
import { GeneratedImage, PreviewBadge } from "../../features/gallery/GeneratedImage";
import { STATUS_LABELS } from "../../features/gallery/labels";
import { CREATE_PATH, galleryItemPath, progressPath } from "../../features/gallery/paths";
import { describeError } from "../../lib/api/problem";
import { formatDateTime, plural } from "../../lib/format";
import "../../components/pages.css";

function Tile({ g, index, onStale }: { g: Generation; index: number; onStale: () => void }) {
  const made = formatDateTime(g.createdAt);
  const first = g.outputs[0];
  const more = g.outputs.length - 1;
  return (
    <li className="tile" data-testid="gallery-item" data-generation-id={g.id}>
      <Link to={isRunning(g) ? progressPath(g.id) : galleryItemPath(g.id)} className="tile-link">
        {g.status === "completed" && first ? (
          <span className="tile-frame">
            <GeneratedImage output={first} alt="" eager={index < 4} onStale={onStale} className="tile-image" />
            {g.preview && <PreviewBadge />}
          </span>
        ) : (
          <div className={`tile-image image-placeholder status-${g.status}`} aria-hidden="true">
            {isRunning(g) ? `${g.progress.percent} %` : "—"}
          </div>
        )}
        <span className="tile-caption">
          <span className="tile-title">
            {g.status === "completed" ? (g.preview ? "Preview picture" : "Baby picture") : STATUS_LABELS[g.status]}
            {more > 0 && ` (+${more} more)`}
          </span>
          <span className="muted small">
            <time dateTime={g.createdAt}>{made}</time>
          </span>
          {g.status === "failed" && g.error && <span className="small error-text">{g.error.message}</span>}
        </span>
      </Link>
    </li>
  );
}

export default function Gallery() {
  const list = useGenerations();
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const refresh = () => void list.refetch();

  return (
    <>
      <PageHeading title="Your pictures" />
      <p className="muted">Only you can see these. Images open through private links that expire within an hour.</p>
      {list.isPending && <Loading label="Loading your pictures" />}
      {list.isError && !list.data && <ErrorNotice title="Could not load your pictures" message={describeError(list.error)} onRetry={refresh} />}
      {list.isSuccess && items.length === 0 && (
        <section className="card empty" aria-labelledby="empty-title">
          <h2 id="empty-title">No pictures yet</h2>
          <p>Upload one photo of each parent and BabyPic makes a picture of a baby who could be yours.</p>
          <p>
            <Link to={CREATE_PATH} className="button">
              Make your first picture
            </Link>
          </p>
        </section>
      )}
      {items.length > 0 && (
        <>
          <p>
            <Link to={CREATE_PATH} className="button button-secondary">
              Make a new picture
            </Link>
          </p>
          <ul className="gallery-grid" aria-label="Your pictures, newest first">
            {items.map((g, i) => (
              <Tile key={g.id} g={g} index={i} onStale={refresh} />
            ))}
          </ul>
        </>
      )}
      {list.hasNextPage && (
        <p>
          <button type="button" className="button button-secondary" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
            {list.isFetchingNextPage ? "Loading more…" : "Load more"}
          </button>
        </p>
      )}
      {list.isFetchNextPageError && <ErrorNotice title="Could not load more" message={describeError(list.error)} onRetry={() => void list.fetchNextPage()} />}
      <p className="visually-hidden" role="status">
        {list.isSuccess ? `${plural(items.length, "picture", "pictures")} shown` : ""}
      </p>
    </>
  );
}
