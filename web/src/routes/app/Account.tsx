import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { ConsentSection } from "../../features/account/ConsentSection";
import { DeleteAccountSection } from "../../features/account/DeleteAccountSection";
import { ExportSection } from "../../features/account/ExportSection";
import { RetentionSection } from "../../features/account/RetentionSection";
import { SupportAccessSection } from "../../features/account/SupportAccessSection";
import { TwoFactorSection } from "../../features/account/TwoFactorSection";
import { useMe } from "../../features/account/useMe";
import { describeError } from "../../lib/api/problem";
import "../../components/pages.css";

/** Privacy settings and data rights: consent, retention, support access, export, deletion. */
export default function Account() {
  const me = useMe();
  return (
    <>
      <PageHeading title="Settings and your data" />
      <TwoFactorSection />
      <ConsentSection />
      <RetentionSection />
      {me.isPending && <Loading label="Loading your account" />}
      {me.isError && <ErrorNotice title="Could not load your account" message={describeError(me.error)} onRetry={() => void me.refetch()} />}
      {me.data && <SupportAccessSection until={me.data.supportAccessUntil} />}
      <ExportSection />
      <DeleteAccountSection />
    </>
  );
}
