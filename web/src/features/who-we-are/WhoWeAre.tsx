import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { describeError } from "../../lib/api/problem";
import { usePrivacyFacts } from "./api";

/** The controller, the DPO and the contacts, as this deployment configures them (GDPR Art. 13(1)(a)-(b)). */
export function WhoWeAre({ headingId, headingLevel = 2 }: { headingId: string; headingLevel?: 2 | 3 }) {
  const facts = usePrivacyFacts();
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section aria-labelledby={headingId} data-testid="who-we-are">
      <Heading id={headingId}>Who is responsible, and how to reach us</Heading>
      {facts.isPending && <Loading label="Loading contact details" />}
      {facts.isError && <ErrorNotice title="Contact details could not be loaded" message={describeError(facts.error)} onRetry={() => void facts.refetch()} />}
      {facts.data && (
        <dl className="facts">
          <dt>Controller</dt>
          <dd>
            <span data-testid="controller-name">{facts.data.controller.name}</span>, <span data-testid="controller-address">{facts.data.controller.address}</span>
          </dd>
          <dt>Data Protection Officer</dt>
          <dd>
            {facts.data.dpo.name}, <a href={`mailto:${facts.data.dpo.email}`}>{facts.data.dpo.email}</a>
          </dd>
          <dt>Privacy questions and requests</dt>
          <dd>
            <Link to="/contact">The contact form</Link> (no account needed), or <a href={`mailto:${facts.data.privacyContact.email}`}>{facts.data.privacyContact.email}</a>
          </dd>
          <dt>Security vulnerabilities</dt>
          <dd>
            <a href={`mailto:${facts.data.securityContact.email}`}>{facts.data.securityContact.email}</a>; see the <Link to="/security/disclosure">disclosure policy</Link>
          </dd>
        </dl>
      )}
    </section>
  );
}
