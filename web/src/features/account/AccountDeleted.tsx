import { useEffect } from "react";
import { Link, useLocation } from "react-router";
import { DeletionReceipt } from "../../components/DeletionReceipt";
import { PageHeading } from "../../components/PageHeading";
import { useAuth } from "../auth/context";
import { loadAccountDeletion } from "./deletion-receipt-store";
import "../../components/pages.css";

/** After DELETE /v1/account: sign out, show that the account is gone, with its receipt. */
export default function AccountDeleted() {
  const { status, signOut } = useAuth();
  const location = useLocation();
  const deletion = loadAccountDeletion(location.state);

  useEffect(() => {
    if (status === "signed-in") void signOut();
  }, [status, signOut]);

  if (!deletion) {
    return (
      <>
        <PageHeading title="Account deletion" />
        <p>There is no account deletion to show in this tab.</p>
        <p>
          <Link to="/">Go to the home page</Link>
        </p>
      </>
    );
  }

  return (
    <>
      <PageHeading title="Your account is deleted" />
      <p role="status" data-testid="account-deleted">
        {deletion.status === "deleted"
          ? "Your account and everything in it are gone. Your encryption key was destroyed first, so nothing left anywhere can be read."
          : "Your encryption key is destroyed, so your data can no longer be read. The remaining clean-up finishes automatically within minutes."}
      </p>
      <p>You are signed out. If you sign in again, you start with a new, empty account.</p>
      <DeletionReceipt receipt={deletion.receipt} />
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </>
  );
}
