import { Link } from "react-router";
import { PageHeading } from "../components/PageHeading";
import { usePrivacyFacts } from "../features/who-we-are/api";
import "../components/pages.css";

/**
 * The vulnerability disclosure policy that /.well-known/security.txt names
 * as its Policy (RFC 9116 §2.5.7). The contact address is the deployment's
 * SECURITY_EMAIL, read from GET /v1/privacy.
 */
export default function Disclosure() {
  const facts = usePrivacyFacts();
  const email = facts.data?.securityContact.email;
  return (
    <article className="prose">
      <PageHeading title="Reporting a security vulnerability" />
      <p className="lead">
        If you found a weakness in BabyPic, please tell us privately first, so we can fix it before anyone can misuse it against the people
        whose photos we hold.
      </p>

      <section aria-labelledby="how">
        <h2 id="how">How to report</h2>
        <p>
          Write to{" "}
          {/* Prerendered empty (web/src/public/render.tsx); web/src/public/public.ts fills it from GET /v1/privacy. */}
          <a href={email ? `mailto:${email}` : undefined} data-testid="security-email" data-fact-mail="securityContact.email" hidden={!email}>
            {email}
          </a>
          {email ? null : <span data-fact-pending="">our security contact (loading…)</span>}. The same address is
          in our <a href="/.well-known/security.txt">security.txt</a>. Please include what you found, where, how to reproduce it, and what an
          attacker could do with it. Write in English.
        </p>
      </section>

      <section aria-labelledby="rules">
        <h2 id="rules">Please</h2>
        <ul>
          <li>Use only accounts you created yourself; never view, change or delete another person&apos;s photos or data.</li>
          <li>Stop and tell us as soon as you see data that is not yours, and do not keep it.</li>
          <li>Do not run denial-of-service tests, spam, or social engineering against our staff or users.</li>
          <li>Give us a reasonable time to fix the problem before you publish it.</li>
        </ul>
      </section>

      <section aria-labelledby="scope">
        <h2 id="scope">In scope</h2>
        <p>
          This web app, its API (including the signed file links and the published <a href="/v1/docs">API reference</a>) and the way we store
          and delete photos, as described on <Link to="/security">Security and privacy</Link>. Our service providers (Cloudflare, Clerk, fal.ai,
          Creem, the mail provider) have their own programmes.
        </p>
      </section>

      <section aria-labelledby="after">
        <h2 id="after">What happens then</h2>
        <p>
          If a report shows that someone else&apos;s data was accessed, we handle it as an incident: the people affected are told what of theirs was
          accessed, and we publish a post-mortem (see <Link to="/security#incidents">incidents</Link>). BabyPic does not pay bounties.
        </p>
      </section>
    </article>
  );
}
