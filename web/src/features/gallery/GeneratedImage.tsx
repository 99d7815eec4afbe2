import { useRef } from "react";
import type { GenerationOutput } from "./api";
import { apiHref } from "../../lib/api/links";

interface Props {
  output: GenerationOutput;
  alt: string;
  /** The first image on a page loads at once; the rest when scrolled near (HTML lazy loading). */
  eager?: boolean;
  /** Asks for fresh links, e.g. when this one expired while the device slept. */
  onStale: () => void;
  className?: string;
}

/** One generated image through its signed link, lazy-loaded, with its real size reserved (no layout shift). */
export function GeneratedImage({ output, alt, eager = false, onStale, className }: Props) {
  // Ask once per link: a link that fails again after renewal is not stale, it is gone.
  const reported = useRef<string | null>(null);
  if (!output.url) {
    return (
      <div className={`image-placeholder ${className ?? ""}`} role="img" aria-label={`${alt} (link not available, try reloading)`}>
        <span aria-hidden="true">?</span>
      </div>
    );
  }
  const url = output.url;
  return (
    <img
      className={className}
      src={apiHref(url)}
      alt={alt}
      width={output.width ?? 512}
      height={output.height ?? 512}
      loading={eager ? "eager" : "lazy"}
      decoding="async"
      referrerPolicy="no-referrer"
      onError={() => {
        if (reported.current === url) return;
        reported.current = url;
        onStale();
      }}
    />
  );
}

/**
 * "Preview, not AI" over a local stand-in's image (issue 19 item 2). The
 * image's own band says it too, but a square thumbnail crops that band off,
 * so the label is drawn over every place such an image appears.
 */
export function PreviewBadge() {
  return (
    <span className="preview-badge" data-testid="preview-badge">
      Preview, not AI
    </span>
  );
}

/** The words for the model in a stand-in's details: never the Fal model's name. */
export function PreviewLabel() {
  return <span data-testid="preview-model">Preview, not AI: a local stand-in made this collage of your photos</span>;
}
