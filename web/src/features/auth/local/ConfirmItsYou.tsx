import { useState } from "react";
import { ConfirmDialog } from "../../../components/ConfirmDialog";
import { describeError } from "../../../lib/api/problem";

interface Props {
  open: boolean;
  name: string | null;
  onConfirm: () => Promise<void>;
  onCancel: () => void;
}

/**
 * The local provider's stand-in for Clerk's reverification modal: a sensitive
 * action was refused because the last sign-in check is over 10 minutes old.
 * Local sign-in has no password, so confirming signs in as the same local
 * user again, which makes a token whose `fva` says "just verified".
 */
export function ConfirmItsYou({ open, name, onConfirm, onCancel }: Props) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <ConfirmDialog
      open={open}
      title="Confirm it's you"
      confirmLabel={name ? `Sign in again as ${name}` : "Sign in again"}
      pendingLabel="Checking…"
      pending={pending}
      error={error}
      onCancel={() => {
        setError(null);
        onCancel();
      }}
      onConfirm={() => {
        setPending(true);
        setError(null);
        onConfirm()
          .catch((err: unknown) => setError(describeError(err)))
          .finally(() => setPending(false));
      }}
    >
      <p>This action changes or takes out your data, so it needs a sign-in check from the last 10 minutes.</p>
      <p className="muted small">Local development: there is no password; confirming signs you in again as the same local user.</p>
    </ConfirmDialog>
  );
}
