import { useEffect, useRef } from "react";

/**
 * When the progress card (and the Cancel button in it) is replaced by the
 * outcome, focus would fall back to the page; put it on the outcome's heading
 * instead (WCAG 2.2 SC 2.4.3), unless the user had moved it elsewhere.
 */
export function useFocusIfLost<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    const active = document.activeElement;
    if (active === null || active === document.body) ref.current?.focus();
  }, []);
  return ref;
}
