import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { describeError } from "../../lib/api/problem";
import { usePrivacyFacts, type PrivacyFacts } from "./api";

/**
 * The controller, the DPO and the contacts, as this deployment configures them (GDPR Art. 13(1)(a)-(b)).
 * On a prerendered public page (web/src/public/render.tsx) the list is rendered empty and hidden, and
 * web/src/public/public.ts fills each `data-fact` from GET /v1/privacy.
 */
export function WhoWeAre({ headingId, headingLevel = 2 }: { headingId: string; headingLevel?: 2 | 3 }) {
  const facts = usePrivacyFacts();
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section aria-labelledby={headingId} data-testid="who-we-are">
      <Heading id={headingId}>Who is responsible, and how to reach us</Heading>
      {facts.isPending && <Loading label="Loading contact details" />}
      {facts.isError && <ErrorNotice title="Contact details could not be loaded" message={describeError(facts.error)} onRetry={() => void facts.refetch()} />}
      <WhoWeAreList facts={facts.data} />
    </section>
  );
}

const mailto = (email: string | undefined) => (email ? `mailto:${email}` : undefined);

function WhoWeAreList({ facts }: { facts: PrivacyFacts | undefined }) {
  return (
    <dl className="facts" hidden={!facts} data-facts-list="">
      <dt>Controller</dt>
      <dd>
        <span data-testid="controller-name" data-fact="controller.name">
          {facts?.controller.name}
        </span>
        ,{" "}
        <span data-testid="controller-address" data-fact="controller.address">
          {facts?.controller.address}
        </span>
      </dd>
      <dt>Data Protection Officer</dt>
      <dd>
        <span data-fact="dpo.name">{facts?.dpo.name}</span>,{" "}
        <a href={mailto(facts?.dpo.email)} data-fact-mail="dpo.email">
          {facts?.dpo.email}
        </a>
      </dd>
      <dt>Privacy questions and requests</dt>
      <dd>
        <Link to="/contact">The contact form</Link> (no account needed), or{" "}
        <a href={mailto(facts?.privacyContact.email)} data-fact-mail="privacyContact.email">
          {facts?.privacyContact.email}
        </a>
      </dd>
      <dt>Security vulnerabilities</dt>
      <dd>
        <a href={mailto(facts?.securityContact.email)} data-fact-mail="securityContact.email">
          {facts?.securityContact.email}
        </a>
        ; see the <Link to="/security/disclosure">disclosure policy</Link>
      </dd>
    </dl>
  );
}
