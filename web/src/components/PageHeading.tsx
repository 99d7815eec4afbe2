import { useEffect, useRef, type ReactNode } from "react";
import { useLocation } from "react-router";

// Focus moves only after the visitor has done something (a click, a tap, a
// key): on first load, and on a redirect the app makes by itself before any
// input, the heading is not focused, so no focus ring sits on it (issue 19
// item 5). Chrome shows :focus-visible for a script's focus made before any
// pointer input, which is what put the ring there.
let interacted = false;
if (typeof window !== "undefined") {
  const mark = () => {
    interacted = true;
  };
  window.addEventListener("pointerdown", mark, { capture: true, once: true });
  window.addEventListener("keydown", mark, { capture: true, once: true });
}
// The location whose heading was last focused: a page that re-renders (its
// title changes once data arrives) keeps the focus where the visitor put it.
let focusedFor: string | null = null;

/**
 * The page's h1. Sets the document title and, after a client-side navigation,
 * moves focus here, the start of the main content, so keyboard and
 * screen-reader users land on the new page (WCAG 2.2 SC 2.4.3 Focus Order).
 */
export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { key } = useLocation();
  useEffect(() => {
    document.title = `${title} · BabyPic`;
  }, [title]);
  useEffect(() => {
    if (!interacted || focusedFor === key) return;
    focusedFor = key;
    ref.current?.focus();
  }, [key]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}
