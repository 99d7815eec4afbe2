import { useCallback, useEffect, useRef, useState } from "react";
import { IDLE_TIMEOUT_MINUTES } from "../../lib/config";
import { useAuth } from "./context";
import { IDLE_SIGNED_OUT_KEY, idlePhase, idlePolicy, LAST_ACTIVITY_KEY, nextCheckIn, readLastActivity, type IdlePhase } from "./idle";
import { plural } from "../../lib/format";

const ACTIVITY_EVENTS = ["pointerdown", "keydown", "wheel", "touchstart", "scroll"] as const;
const policy = idlePolicy(IDLE_TIMEOUT_MINUTES);

/**
 * Signs out after IDLE_TIMEOUT_MINUTES without a key press, click, touch or
 * scroll in any tab, with a warning a minute before that any interaction (or
 * "Stay signed in") dismisses. Mounted for signed-in pages only.
 */
export function IdleSignOut() {
  const { signOut } = useAuth();
  const [phase, setPhase] = useState<IdlePhase>("active");
  const [secondsLeft, setSecondsLeft] = useState(0);
  const lastWrite = useRef(0);

  const touch = useCallback(() => {
    const now = Date.now();
    // One write a second at most: activity events come in bursts.
    if (now - lastWrite.current < 1_000) return;
    lastWrite.current = now;
    localStorage.setItem(LAST_ACTIVITY_KEY, String(now));
  }, []);

  useEffect(() => {
    localStorage.setItem(LAST_ACTIVITY_KEY, String(Date.now()));
    for (const e of ACTIVITY_EVENTS) window.addEventListener(e, touch, { passive: true, capture: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const check = () => {
      const now = Date.now();
      const last = readLastActivity(localStorage, now);
      const next = idlePhase(last, now, policy);
      setPhase(next);
      setSecondsLeft(Math.max(0, Math.ceil((last + policy.timeoutMs - now) / 1000)));
      if (next === "expired") {
        if (!ended) {
          ended = true;
          // Read once by the sign-in page, which says why the user is there.
          sessionStorage.setItem(IDLE_SIGNED_OUT_KEY, "1");
          void signOut();
        }
        return;
      }
      timer = setTimeout(check, nextCheckIn(last, now, policy));
    };
    check();
    const onStorage = (e: StorageEvent) => {
      if (e.key !== LAST_ACTIVITY_KEY) return;
      clearTimeout(timer);
      check();
    };
    const onActivity = () => {
      clearTimeout(timer);
      check();
    };
    window.addEventListener("storage", onStorage);
    for (const e of ACTIVITY_EVENTS) window.addEventListener(e, onActivity, { passive: true });
    return () => {
      clearTimeout(timer);
      window.removeEventListener("storage", onStorage);
      for (const e of ACTIVITY_EVENTS) {
        window.removeEventListener(e, touch, { capture: true });
        window.removeEventListener(e, onActivity);
      }
    };
  }, [touch, signOut]);

  if (phase !== "warning") return null;
  return (
    <div role="alertdialog" aria-labelledby="idle-title" aria-describedby="idle-body" className="notice idle-warning" data-testid="idle-warning">
      <h2 id="idle-title">Still there?</h2>
      <p id="idle-body">
        For your privacy you will be signed out in {plural(secondsLeft, "second", "seconds")} because nothing happened for{" "}
        {plural(IDLE_TIMEOUT_MINUTES - 1, "minute", "minutes")}.
      </p>
      <button type="button" className="button" onClick={() => localStorage.setItem(LAST_ACTIVITY_KEY, String(Date.now()))}>
        Stay signed in
      </button>
    </div>
  );
}
