import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { useMe } from "../../features/account/useMe";
import { describeError } from "../../lib/api/problem";
import { formatDate } from "../../lib/format";

export default function Dashboard() {
  const me = useMe();
  return (
    <>
      <PageHeading title="Your account" />
      {me.isPending && <Loading label="Loading your account" />}
      {me.isError && <ErrorNotice title="Could not load your account" message={describeError(me.error)} onRetry={() => void me.refetch()} />}
      {me.data && (
        <section aria-labelledby="account-facts" className="card">
          <h2 id="account-facts">Account</h2>
          <dl className="facts">
            <div>
              <dt>Credits</dt>
              <dd data-testid="credits" className="big-number">
                {me.data.credits}
              </dd>
            </div>
            <div>
              <dt>Account id</dt>
              <dd>
                <code data-testid="account-id">{me.data.id}</code>
              </dd>
            </div>
            <div>
              <dt>Member since</dt>
              <dd>{formatDate(me.data.createdAt)}</dd>
            </div>
          </dl>
          <p className="muted">
            Your account id is random and internal: it is not your sign-in identity. One credit makes one generation.
          </p>
        </section>
      )}
      <nav aria-labelledby="next-title" className="card">
        <h2 id="next-title">What you can do</h2>
        <ul className="next-list">
          <li>
            <Link to="/app/create">Make a baby picture</Link> from one photo of each parent.
          </li>
          <li>
            <Link to="/app/gallery">See your pictures</Link>, download or delete them.
          </li>
          <li>
            <Link to="/app/billing">Buy credits</Link> and see your credit history.
          </li>
          <li>
            <Link to="/app/activity">See every access to your data</Link>.
          </li>
          <li>
            <Link to="/app/account">Download your data, choose how long photos are kept, or delete your account</Link>.
          </li>
        </ul>
      </nav>
    </>
  );
}
