import type { ReactNode } from "react";
import { Link } from "react-router";
import { DATA_CATEGORIES, PURPOSES, RETENTION, RIGHTS, SUB_PROCESSORS, TERMS_VERSION } from "#shared/privacy-facts";
import { PageHeading } from "../components/PageHeading";
import { WhoWeAre } from "../features/who-we-are/WhoWeAre";
import { API_BASE } from "../lib/config";
import "../components/pages.css";

/**
 * The rights as things to do in the app (issue 19 item 4), not API calls; the
 * API calls stay in GET /v1/privacy (worker/lib/privacy-facts.ts RIGHTS).
 */
const RIGHT_ACTIONS: Record<string, ReactNode> = {
  "Access and portability": (
    <>
      <Link to="/app/account">Download all your data</Link> in Settings: a ZIP of everything we hold about you, ready within minutes and
      downloadable for 1 hour.
    </>
  ),
  Erasure: (
    <>
      Delete a picture in <Link to="/app/gallery">Your pictures</Link>, or your whole account in <Link to="/app/account">Settings</Link>; each
      deletion gives you a receipt.
    </>
  ),
  "Withdraw consent": (
    <>
      <Link to="/app/account">Withdraw consent in Settings</Link>: processing stops at once, and deletion is offered.
    </>
  ),
  Rectification: <>Your email address is managed in your Clerk profile.</>,
  "Restriction and objection": (
    <>
      Withdraw consent in <Link to="/app/account">Settings</Link>, or write to us through the <Link to="/contact">contact form</Link>.
    </>
  ),
  "Requests without an account, and takedowns": (
    <>
      The <Link to="/contact">contact form</Link>, no account needed: an access, deletion or takedown request gets the legal deadline of one
      month, tracked until it is closed; a verified takedown deletes the picture and tells its owner why.
    </>
  ),
  "See every access": (
    <>
      <Link to="/app/activity">Activity</Link> lists every time your data was accessed.
    </>
  ),
};

/** The privacy policy (GDPR Art. 13): built from the same facts the API publishes and the sweeps enforce. */
export default function Privacy() {
  return (
    <article className="prose">
      <PageHeading title="Privacy policy" />
      <p className="muted">
        Version {TERMS_VERSION}. The same facts in machine-readable form: <a href={`${API_BASE}/v1/privacy`}>/v1/privacy</a>. How they are enforced:{" "}
        <Link to="/security">Security and privacy</Link>.
      </p>

      <section aria-labelledby="summary">
        <h2 id="summary">In short</h2>
        <ul>
          <li>We use your two parent photos only to make the pictures you ask for.</li>
          <li>Parent photos are deleted when the picture is ready, unless you choose to keep them for 7 or 30 days.</li>
          <li>Your pictures are encrypted and only you can see them, until you delete them.</li>
          <li>No ads, no analytics, no tracking, no selling or sharing of your data.</li>
          <li>You can download everything, delete anything, and see every access to your data.</li>
        </ul>
      </section>

      <WhoWeAre headingId="controller" />

      <section aria-labelledby="what">
        <h2 id="what">What we process and how long we keep it</h2>
        <div className="table-wrap" role="region" aria-label="Data categories" tabIndex={0}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Data</th>
                <th scope="col">What exactly</th>
                <th scope="col">Kept</th>
              </tr>
            </thead>
            <tbody>
              {DATA_CATEGORIES.map((d) => (
                <tr key={d.category}>
                  <th scope="row">{d.category}</th>
                  <td>{d.items.join("; ")}</td>
                  <td>{d.retention}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p>
          Our database provider keeps {RETENTION.databaseHistoryDays} days of history for recovery; it never holds photos or encryption keys. Your
          email address, your consent, the IP prefixes and browsers recorded in your activity log, the options of your generations and the names
          you give API keys are stored there only encrypted with your own data key, so once your account is deleted (which destroys that key) the
          copies in that history can no longer be read.
        </p>
      </section>

      <section aria-labelledby="why">
        <h2 id="why">Why, and on what legal basis</h2>
        <ul>
          {PURPOSES.map((p) => (
            <li key={p.purpose}>
              {p.purpose}. <span className="muted">{p.legalBasis}.</span>
            </li>
          ))}
        </ul>
        <p>
          Photos of faces can reveal sensitive information. Before your first picture we ask you to confirm that the people pictured agreed, and to
          accept these terms; we record the version and the time. You can withdraw consent at any time in{" "}
          <Link to="/app/account">Settings and your data</Link>: processing stops at once.
        </p>
      </section>

      <section aria-labelledby="who">
        <h2 id="who">Who receives your data</h2>
        <p>Only these service providers (processors), each only for the purpose shown. We do not sell or share data with anyone else.</p>
        <ul>
          {SUB_PROCESSORS.map((p) => (
            <li key={p.name}>
              <strong>
                <a href={p.url} rel="noreferrer">
                  {p.name}
                </a>
              </strong>
              : {p.purpose} <span className="muted">When: {p.when}.</span>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="rights">
        <h2 id="rights">Your rights</h2>
        <p>Each right is something you can do yourself, in the app:</p>
        <ul>
          {RIGHTS.map((r) => (
            <li key={r.right}>
              <strong>{r.right}</strong> ({r.article}): {RIGHT_ACTIONS[r.right] ?? `${r.how}.`}
            </li>
          ))}
        </ul>
        <p data-testid="privacy-contact">
          Questions about your data? <Link to="/contact">Contact us</Link>: no account is needed, and a request about your data is answered
          within one month.
        </p>
      </section>

      <section aria-labelledby="storage">
        <h2 id="storage">Cookies and storage in your browser</h2>
        <p>
          BabyPic itself sets no cookies and stores nothing for tracking. When Clerk runs sign-in, it keeps its own sign-in session in your browser.
          The API never reads cookies: every request carries its session token explicitly.
        </p>
      </section>

      <section aria-labelledby="changes">
        <h2 id="changes">Changes</h2>
        <p>
          When this policy or the <Link to="/terms">terms</Link> change, the version changes and we ask for your consent again before processing
          any new photo.
        </p>
      </section>
    </article>
  );
}
