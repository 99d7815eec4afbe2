import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError } from "../../lib/api/problem";
import { useDeleteAccount } from "./api";
import { RETENTION } from "#shared/privacy-facts";
import { saveAccountDeletion } from "./deletion-receipt-store";

const CONFIRM_WORD = "DELETE";

/** GDPR Art. 17 for the whole account: explain, type to confirm, then the goodbye page with the receipt. */
export function DeleteAccountSection() {
  const del = useDeleteAccount();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [typed, setTyped] = useState("");
  const hintId = useId();
  const ready = typed === CONFIRM_WORD;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    del.mutate(undefined, {
      onSuccess: async (result) => {
        // Nothing more may be asked of the API as this user: a late request would start a new, empty account.
        await queryClient.cancelQueries();
        const value = { status: result.status, receipt: result.receipt };
        saveAccountDeletion(value);
        void navigate("/account-deleted", { replace: true, state: value });
      },
    });
  };

  return (
    <section className="card danger-zone" aria-labelledby="delete-account-title" id="delete-account" tabIndex={-1}>
      <h2 id="delete-account-title">Delete your account</h2>
      <p>Deleting your account is immediate and cannot be undone. In this order, BabyPic:</p>
      <ol>
        <li>
          destroys your personal encryption key, so every copy of your photos and pictures, in our storage and in our backups, becomes unreadable
          at once (the backup copies themselves are deleted once they are {RETENTION.backupDays} days old);
        </li>
        <li>revokes your API keys;</li>
        <li>deletes every file and record: pictures, photos, exports, credit history and activity log;</li>
        <li>asks our sign-in provider to delete your sign-in identity, and emails you a confirmation.</li>
      </ol>
      <p>
        Only an anonymous receipt remains (counts and time, no personal data). Unused credits are lost. Signing in again later starts a new, empty
        account. You may want to download your data first.
      </p>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="confirm-delete">
            Type <strong>{CONFIRM_WORD}</strong> to confirm
          </label>
          <input
            id="confirm-delete"
            className="input"
            value={typed}
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            aria-describedby={hintId}
            onChange={(e) => setTyped(e.target.value)}
          />
          <p id={hintId} className="muted small">
            In capital letters, exactly as shown.
          </p>
        </div>
        {del.isError && <ErrorNotice title="Your account was not deleted" message={describeError(del.error)} />}
        <button type="submit" className="button button-danger" disabled={!ready || del.isPending}>
          {del.isPending ? "Deleting your account…" : "Delete my account"}
        </button>
      </form>
    </section>
  );
}
