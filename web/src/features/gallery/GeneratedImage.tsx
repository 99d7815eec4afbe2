import { useRef } from "react";
import type { GenerationOutput } from "./api";
import { apiHref } from "./links";

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
