import { useState } from "react";
import { Link } from "react-router";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { QueryStatus } from "../../components/QueryStatus";
import { describeError } from "../../lib/api/problem";
import { formatDateTime } from "../../lib/format";
import { CREATE_PATH } from "../gallery/paths";
import { useConsent, useWithdrawConsent } from "./api";

/** Consent on record (version and time), and withdrawal, which stops processing and offers deletion (GDPR Art. 7(3)). */
export function ConsentSection() {
  const consent = useConsent();
  const withdraw = useWithdrawConsent();
  const [confirming, setConfirming] = useState(false);
  const [withdrawn, setWithdrawn] = useState(false);

  return (
    <section className="card" aria-labelledby="consent-title" data-testid="consent-section">
      <h2 id="consent-title">Consent</h2>
      <QueryStatus query={consent} loading="Loading your consent" failed="Could not load your consent" />
      {consent.data && (
        <>
          {consent.data.consent ? (
            <p>
              You accepted the <Link to="/terms">terms</Link> version <strong data-testid="consent-version">{consent.data.consent.version}</strong> on{" "}
              <time dateTime={consent.data.consent.at}>{formatDateTime(consent.data.consent.at)}</time> and confirmed that you have the consent of
              the people in the photos you upload.
              {!consent.data.consent.current && (
                <>
                  {" "}
                  The terms have changed since (now version {consent.data.termsVersion}): you will be asked to accept them before your next
                  picture.
                </>
              )}
            </p>
          ) : (
            <p data-testid="no-consent">
              You have not given consent{withdrawn ? " (you withdrew it)" : ""}, so BabyPic does not process any new photos for you. You are asked
              for it when you <Link to={CREATE_PATH}>make a picture</Link>.
            </p>
          )}
          {withdrawn && (
            <div className="notice" role="status">
              <p>Consent withdrawn: no new uploads or pictures are processed. Your existing pictures stay until you delete them.</p>
              <p>
                <a href="#delete-account">Delete your account and everything in it</a>
              </p>
            </div>
          )}
          {consent.data.consent && (
            <button type="button" className="button button-secondary" onClick={() => setConfirming(true)}>
              Withdraw consent
            </button>
          )}
        </>
      )}
      <ConfirmDialog
        open={confirming}
        title="Withdraw your consent?"
        confirmLabel="Withdraw consent"
        pendingLabel="Withdrawing…"
        danger
        pending={withdraw.isPending}
        error={withdraw.isError ? describeError(withdraw.error) : null}
        onConfirm={() =>
          withdraw.mutate(undefined, {
            onSuccess: () => {
              setConfirming(false);
              setWithdrawn(true);
            },
          })
        }
        onCancel={() => {
          setConfirming(false);
          withdraw.reset();
        }}
      >
        <p>
          Processing stops at once: BabyPic will refuse new uploads and pictures until you consent again. What you already have stays until you
          delete it; you can then delete your whole account below.
        </p>
      </ConfirmDialog>
    </section>
  );
}
