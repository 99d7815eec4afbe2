import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { RETENTION, TERMS_VERSION } from "#shared/privacy-facts";
import { describeError, unwrap } from "../../lib/api/problem";
import { useApi } from "../auth/useApi";

const hours = (ms: number) => Math.round(ms / 3_600_000);

/**
 * Consent before the first upload (GDPR Art. 7 and 9(2)(a)): the user confirms
 * the people pictured agreed, and accepts the current terms version. The API
 * refuses uploads and generations without it (worker/services/consent.ts).
 */
export function ConsentStep({ renewal }: { renewal: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const id = useId();
  const [people, setPeople] = useState(false);
  const [terms, setTerms] = useState(false);
  const [missing, setMissing] = useState(false);
  const errorRef = useRef<HTMLDivElement>(null);

  const give = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/v1/me/consent", {
          body: { termsVersion: TERMS_VERSION, peopleConsent: true },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["me"] }),
  });

  useEffect(() => {
    if (give.isError || missing) errorRef.current?.focus();
  }, [give.isError, missing]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!people || !terms) {
      setMissing(true);
      return;
    }
    setMissing(false);
    give.mutate();
  };

  return (
    <section className="card consent" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{renewal ? "Our terms changed: please confirm again" : "Before your first photo"}</h2>
      <p>In plain words, this is what happens when you continue:</p>
      <ul>
        <li>
          Your browser shrinks each photo and removes hidden details such as the place it was taken, then encrypts it to our processing key.
        </li>
        <li>
          We store the photos encrypted with a key for your account only, and send them to our AI model provider (Fal.AI) only to make your
          picture.
        </li>
        <li>
          Photos no generation uses are deleted after {hours(RETENTION.abandonedUploadMs)} hours; parent photos are deleted once your
          picture is made, unless you choose to keep them for 7 or 30 days in your account.
        </li>
        <li>Only you can see the results. You can delete any of it, or your whole account, at any time.</li>
      </ul>
      <p>
        Read the <Link to="/terms">terms</Link>, the <Link to="/privacy">privacy policy</Link> and{" "}
        <Link to="/security">how we protect your photos</Link>.
      </p>
      <form onSubmit={submit} noValidate>
        <div className="check">
          <input
            id={`${id}-people`}
            type="checkbox"
            checked={people}
            onChange={(e) => setPeople(e.currentTarget.checked)}
            aria-required="true"
          />
          <label htmlFor={`${id}-people`}>
            The people in the photos I upload have agreed to their photos being used to make this picture.
          </label>
        </div>
        <div className="check">
          <input
            id={`${id}-terms`}
            type="checkbox"
            checked={terms}
            onChange={(e) => setTerms(e.currentTarget.checked)}
            aria-required="true"
          />
          <label htmlFor={`${id}-terms`}>I accept the terms (version {TERMS_VERSION}) and have read the privacy policy.</label>
        </div>
        {(missing || give.isError) && (
          <div ref={errorRef} tabIndex={-1} role="alert" className="notice notice-error">
            <p>
              {missing ? (
                <>
                  <strong>Please tick both boxes.</strong> We can only work with photos of people who agreed.
                </>
              ) : (
                <>
                  <strong>Could not save your consent.</strong> {describeError(give.error)}
                </>
              )}
            </p>
          </div>
        )}
        <button type="submit" className="button" disabled={give.isPending}>
          {give.isPending ? "Saving…" : "Agree and continue"}
        </button>
      </form>
      <p className="muted small">You can withdraw your consent at any time on your account page; processing stops at once.</p>
    </section>
  );
}
