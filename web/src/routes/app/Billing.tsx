import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { PageHeading } from "../../components/PageHeading";
import { REASON_LABELS, useBalance, useCheckout, useLedger, usePacks, type LedgerEntry } from "../../features/billing/api";
import { describeError } from "../../lib/api/problem";
import { formatDateTime, formatDelta, plural } from "../../lib/format";
import "../../components/pages.css";

const CHECKOUT_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** How long to wait for the payment webhook after coming back from the payment page. */
const WATCH_MS = 60_000;

function CheckoutReturn({ state, purchase, waiting }: { state: string; purchase: LedgerEntry | undefined; waiting: boolean }) {
  if (state === "canceled") {
    return (
      <p className="notice" role="status">
        The payment was canceled. Nothing was charged.
      </p>
    );
  }
  if (purchase) {
    return (
      <p className="notice notice-success" role="status" data-testid="checkout-confirmed">
        Payment confirmed: {plural(purchase.delta, "credit", "credits")} added. Thank you!
      </p>
    );
  }
  return (
    <p className="notice" role="status">
      {waiting ? "Thank you! Waiting for the payment provider to confirm your payment…" : "Your payment is not confirmed yet. Credits appear here as soon as it is; reload this page later."}
    </p>
  );
}

export default function Billing() {
  const [params] = useSearchParams();
  const state = params.get("checkout");
  const rawCheckoutId = params.get("checkout_id") ?? "";
  const checkoutId = CHECKOUT_ID.test(rawCheckoutId) ? rawCheckoutId : null;
  const started = useRef(Date.now());
  const ledger = useLedger(false);
  const entries = ledger.data?.pages.flatMap((p) => p.entries) ?? [];
  const purchase = checkoutId ? entries.find((e) => e.reason === "purchase" && e.reference === checkoutId) : undefined;
  const waiting = state === "success" && checkoutId !== null && !purchase && Date.now() - started.current < WATCH_MS;
  const balance = useBalance(waiting);
  const packs = usePacks();
  const checkout = useCheckout();

  // Watch the ledger too while waiting, so the confirmation names the purchase.
  const refetchLedger = ledger.refetch;
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => void refetchLedger(), 2_000);
    return () => clearInterval(timer);
  }, [waiting, refetchLedger]);

  return (
    <>
      <PageHeading title="Credits" />
      {state && <CheckoutReturn state={state} purchase={purchase} waiting={waiting} />}

      <section className="card" aria-labelledby="balance-title">
        <h2 id="balance-title">Your balance</h2>
        {balance.isPending && <Loading label="Loading your balance" />}
        {balance.isError && <ErrorNotice title="Could not load your balance" message={describeError(balance.error)} onRetry={() => void balance.refetch()} />}
        {balance.data && (
          <p>
            <span className="big-number" data-testid="balance">
              {balance.data.credits}
            </span>{" "}
            {balance.data.credits === 1 ? "credit" : "credits"}
          </p>
        )}
        <p className="muted">One credit makes one picture. Failed or canceled pictures give their credits back.</p>
      </section>

      <section className="card" aria-labelledby="buy-title">
        <h2 id="buy-title">Buy credits</h2>
        <p className="muted">
          Payment happens on Creem&apos;s secure page (our merchant of record). Your card details never reach BabyPic; we keep only the transaction id,
          amount and status.
        </p>
        {packs.isPending && <Loading label="Loading credit packs" />}
        {packs.isError && <ErrorNotice title="Could not load credit packs" message={describeError(packs.error)} onRetry={() => void packs.refetch()} />}
        {packs.data && packs.data.length === 0 && <p>No credit packs are for sale on this deployment.</p>}
        {packs.data && packs.data.length > 0 && (
          <ul className="pack-list">
            {packs.data.map((p) => (
              <li key={p.productId} className="pack">
                <span className="pack-name">{p.name}</span>
                <span className="pack-price">{p.price}</span>
                <button
                  type="button"
                  className="button"
                  disabled={checkout.isPending}
                  aria-label={`Buy ${p.name} for ${p.price}`}
                  onClick={() => checkout.mutate(p.productId)}
                >
                  {checkout.isPending && checkout.variables === p.productId ? "Opening payment page…" : "Buy"}
                </button>
              </li>
            ))}
          </ul>
        )}
        {checkout.isError && <ErrorNotice title="Could not start the payment" message={describeError(checkout.error)} />}
      </section>

      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">Credit history</h2>
        {ledger.isPending && <Loading label="Loading your credit history" />}
        {ledger.isError && !ledger.data && <ErrorNotice title="Could not load your credit history" message={describeError(ledger.error)} onRetry={() => void ledger.refetch()} />}
        {ledger.isSuccess && entries.length === 0 && <p>No credit movements yet.</p>}
        {entries.length > 0 && (
          <div className="table-wrap" role="region" aria-labelledby="history-title" tabIndex={0}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What</th>
                  <th scope="col" className="num">
                    Credits
                  </th>
                  <th scope="col">Reference</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id} data-testid="ledger-entry" data-reason={e.reason}>
                    <td>
                      <time dateTime={e.createdAt}>{formatDateTime(e.createdAt)}</time>
                    </td>
                    <td>{REASON_LABELS[e.reason]}</td>
                    <td className={`num ${e.delta < 0 ? "negative" : "positive"}`}>{formatDelta(e.delta)}</td>
                    <td>
                      {e.reference.startsWith("gen_") ? (
                        <Link to={`/app/gallery/${e.reference}`}>
                          <code>{e.reference.slice(0, 12)}…</code>
                        </Link>
                      ) : (
                        <code className="break">{e.reference}</code>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {ledger.hasNextPage && (
          <p>
            <button type="button" className="button button-secondary" disabled={ledger.isFetchingNextPage} onClick={() => void ledger.fetchNextPage()}>
              {ledger.isFetchingNextPage ? "Loading more…" : "Load more"}
            </button>
          </p>
        )}
      </section>
    </>
  );
}
