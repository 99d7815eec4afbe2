import type { components } from "../lib/api/schema";
import { formatDateTime } from "../lib/format";

export type Receipt = components["schemas"]["DeletionReceipt"];

const COUNT_LABELS: Record<string, string> = {
  accounts: "Accounts",
  photos: "Parent photos",
  outputs: "Generated images",
  generations: "Generations",
  exports: "Data exports",
  exportFiles: "Stored export files",
  objects: "Stored files",
  auditEntries: "Activity log entries",
  securityEvents: "Security log entries",
  ledgerEntries: "Credit history entries",
  payments: "Payment records",
  apiKeys: "API keys",
};

/**
 * A deletion receipt as the API returns it (docs/architecture.md): what was deleted,
 * as counts, and when. It holds no personal data: the id is only a hash.
 */
export function DeletionReceipt({ receipt, headingLevel = 2 }: { receipt: Receipt; headingLevel?: 2 | 3 }) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const counts = Object.entries(receipt.counts).filter(([, n]) => n > 0);
  return (
    <section className="card receipt" aria-labelledby={`receipt-${receipt.id}`} data-testid="deletion-receipt">
      <Heading id={`receipt-${receipt.id}`}>Deletion receipt</Heading>
      <dl className="facts">
        <div>
          <dt>Receipt</dt>
          <dd>
            <code data-testid="receipt-id">{receipt.id}</code>
          </dd>
        </div>
        <div>
          <dt>Deleted</dt>
          <dd>
            <time dateTime={receipt.deletedAt}>{formatDateTime(receipt.deletedAt)}</time>
          </dd>
        </div>
      </dl>
      {counts.length > 0 ? (
        <ul className="receipt-counts">
          {counts.map(([key, n]) => (
            <li key={key}>
              {COUNT_LABELS[key] ?? key}: <strong>{n}</strong>
            </li>
          ))}
        </ul>
      ) : (
        <p>Nothing was left to delete.</p>
      )}
      <p className="muted small">
        Fingerprint of what was deleted (SHA-256): <code className="break">{receipt.subjectHash}</code>. It matches the deleted item&apos;s id and
        reveals nothing else.
      </p>
    </section>
  );
}
