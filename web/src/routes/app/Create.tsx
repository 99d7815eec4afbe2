import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { TERMS_VERSION } from "#shared/privacy-facts";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { useMe } from "../../features/account/useMe";
import { ConsentStep } from "../../features/create/ConsentStep";
import { DEFAULT_OPTIONS, OptionsForm, type GenerationOptions } from "../../features/create/OptionsForm";
import { useCreateGeneration } from "../../features/generations/api";
import { PhotoSlot } from "../../features/photos/PhotoSlot";
import { hasPassed, usePhotoSlot } from "../../features/photos/usePhotoSlot";
import { warmUpFaceCheck } from "../../features/face-check/check";
import { ApiError, describeError } from "../../lib/api/problem";
import { plural } from "../../lib/format";
import "../../features/create/create.css";

/** Where credits are bought (the account's billing page). */
const BUY_CREDITS_PATH = "/app/billing";

const credits = (n: number) => plural(n, "credit", "credits");

function CreateForm({ userId, balance, cost, focusFirst }: { userId: string; balance: number; cost: number; focusFirst: boolean }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // Each slot uploads only once the other's photo has passed the face check too (issue 20).
  const [motherPassed, setMotherPassed] = useState(false);
  const [fatherPassed, setFatherPassed] = useState(false);
  const mother = usePhotoSlot(userId, fatherPassed);
  const father = usePhotoSlot(userId, motherPassed);
  useEffect(() => setMotherPassed(hasPassed(mother.state)), [mother.state]);
  useEffect(() => setFatherPassed(hasPassed(father.state)), [father.state]);
  useEffect(() => {
    // Load the face check's models while the person picks a photo; a failure shows on the first photo instead.
    warmUpFaceCheck().catch(() => undefined);
  }, []);
  const [options, setOptions] = useState<GenerationOptions>(DEFAULT_OPTIONS);
  const create = useCreateGeneration();
  const photosHeading = useRef<HTMLHeadingElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // Right after consent the consent form is gone; put focus where the next step starts.
    if (focusFirst) photosHeading.current?.focus();
  }, [focusFirst]);
  useEffect(() => {
    if (create.isError) errorRef.current?.focus();
  }, [create.isError]);
  useEffect(() => {
    // A photo dropped beside the drop zones would make the browser open it in place of the app (and lose the
    // other slot's work). Drops on a zone reach its own handler first; this only stops the navigation.
    const ignore = (e: DragEvent) => e.preventDefault();
    window.addEventListener("dragover", ignore);
    window.addEventListener("drop", ignore);
    return () => {
      window.removeEventListener("dragover", ignore);
      window.removeEventListener("drop", ignore);
    };
  }, []);

  // Fresh account data brings the consent step back when consent is missing.
  const reloadAccount = () => void queryClient.invalidateQueries({ queryKey: ["me"] });
  const motherId = mother.state.status === "ready" ? mother.state.photo.id : null;
  const fatherId = father.state.status === "ready" ? father.state.photo.id : null;
  const short = balance < cost;
  const missing = [motherId ? null : "the mother's photo", fatherId ? null : "the father's photo"].filter((x): x is string => x !== null);
  const ready = missing.length === 0 && !short;

  const generate = () => {
    if (!motherId || !fatherId || short || create.isPending) return;
    create.mutate(
      { motherPhotoId: motherId, fatherPhotoId: fatherId, ...options },
      { onSuccess: (gen) => void navigate(`/app/generations/${gen.id}`) },
    );
  };

  const err = create.error;
  const needsCredits = err instanceof ApiError && err.code === "insufficient_credits";
  useEffect(() => {
    // Consent withdrawn in another tab, or new terms: reloading the account brings the consent step back.
    if (err instanceof ApiError && (err.code === "consent_required" || err.code === "insufficient_credits")) {
      void queryClient.invalidateQueries({ queryKey: ["me"] });
    }
  }, [err, queryClient]);

  return (
    <>
      <section aria-labelledby="photos-title" className="step">
        <h2 id="photos-title" ref={photosHeading} tabIndex={-1}>
          1. Two photos
        </h2>
        <p className="muted">
          One photo of each parent, face clearly visible. Each face is checked on this device first; only a square around it is
          encrypted and sent, once both photos have passed.
        </p>
        <div className="slots">
          <PhotoSlot
            parent="mother"
            title="Mother"
            state={mother.state}
            onPick={(f) => void mother.pick(f)}
            onChooseFace={(i) => void mother.chooseFace(i)}
            onReuse={mother.reuse}
            onClear={mother.clear}
            otherPhotoId={fatherId}
            onConsentNeeded={reloadAccount}
          />
          <PhotoSlot
            parent="father"
            title="Father"
            state={father.state}
            onPick={(f) => void father.pick(f)}
            onChooseFace={(i) => void father.chooseFace(i)}
            onReuse={father.reuse}
            onClear={father.clear}
            otherPhotoId={motherId}
            onConsentNeeded={reloadAccount}
          />
        </div>
      </section>

      <section aria-labelledby="options-title" className="step">
        <h2 id="options-title">2. Options</h2>
        <OptionsForm value={options} onChange={setOptions} disabled={create.isPending} />
      </section>

      <section aria-labelledby="generate-title" className="step card">
        <h2 id="generate-title">3. Make the picture</h2>
        <p data-testid="cost-line">
          This costs <strong>{credits(cost)}</strong>. You have <strong data-testid="balance">{credits(balance)}</strong>.
        </p>
        {short && (
          <p className="notice" data-testid="short-of-credits">
            You need {credits(cost - balance)} more. <Link to={BUY_CREDITS_PATH}>Buy credits</Link>, then come back: your photos stay here
            for 24 hours.
          </p>
        )}
        {missing.length > 0 && (
          <p className="muted" id="generate-hint">
            Still needed: {missing.join(" and ")}.
          </p>
        )}
        {create.isError && (
          <div ref={errorRef} tabIndex={-1} role="alert" className="notice notice-error">
            <p>
              <strong>Could not start the generation.</strong> {describeError(err)}
            </p>
            {needsCredits && (
              <p>
                <Link to={BUY_CREDITS_PATH}>Buy credits</Link>
              </p>
            )}
          </div>
        )}
        <button
          type="button"
          className="button button-large"
          onClick={generate}
          disabled={!ready || create.isPending}
          aria-describedby={missing.length > 0 ? "generate-hint" : undefined}
        >
          {create.isPending ? "Starting…" : "Make my baby picture"}
        </button>
        <p className="muted small">Credits are refunded automatically if the model fails or you cancel.</p>
      </section>
    </>
  );
}

/** /app/create: consent (first time), two photos, options, generate. */
export default function Create() {
  const me = useMe();
  const [consentShown, setConsentShown] = useState(false);
  const consent = me.data?.consent ?? null;
  const needsConsent = me.data !== undefined && consent?.version !== TERMS_VERSION;

  useEffect(() => {
    if (needsConsent) setConsentShown(true);
  }, [needsConsent]);

  return (
    <>
      <PageHeading title="Create a baby picture" />
      {me.isPending && <Loading label="Loading your account" />}
      {me.isError && (
        <ErrorNotice title="Could not load your account" message={describeError(me.error)} onRetry={() => void me.refetch()} />
      )}
      {me.data &&
        (needsConsent ? (
          <ConsentStep renewal={consent !== null} />
        ) : (
          <CreateForm userId={me.data.id} balance={me.data.credits} cost={me.data.generationCost} focusFirst={consentShown} />
        ))}
    </>
  );
}
