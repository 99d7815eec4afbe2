import { useEffect, useRef, type ReactNode } from "react";

let initialPage = true;

/**
 * The page's h1. Sets the document title and, after client-side navigation
 * (not on first load), moves focus here so keyboard and screen-reader users
 * land on the new page's content (WCAG 2.2 SC 2.4.3 Focus Order).
 */
export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · BabyPic`;
    if (initialPage) {
      initialPage = false;
      return;
    }
    ref.current?.focus();
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}
