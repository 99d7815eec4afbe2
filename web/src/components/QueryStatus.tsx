import { describeError } from "../lib/api/problem";
import { ErrorNotice } from "./ErrorNotice";
import { Loading } from "./Loading";

/** The parts of a react-query result QueryStatus reads. */
interface QueryState {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => Promise<unknown>;
}

/**
 * What a query shows while it has no data: Loading with `loading` while it is
 * pending, or an ErrorNotice titled `failed` (the error in words, and Try
 * again) if it failed; nothing otherwise.
 */
export function QueryStatus({ query, loading, failed }: { query: QueryState; loading: string; failed: string }) {
  if (query.isPending) return <Loading label={loading} />;
  if (query.isError) return <ErrorNotice title={failed} message={describeError(query.error)} onRetry={() => void query.refetch()} />;
  return null;
}
