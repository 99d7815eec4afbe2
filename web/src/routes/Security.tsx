import { Link } from "react-router";
import { LIMITS, ON_DEVICE_CHECKS, RETENTION, retentionRules, RIGHTS, SUB_PROCESSORS } from "#shared/privacy-facts";
import { PageHeading } from "../components/PageHeading";
import { WhoWeAre } from "../features/who-we-are/WhoWeAre";
import { API_BASE } from "../lib/config";
import { formatDuration, plural } from "../lib/format";
import "../components/pages.css";

const MS = (ms: number) => formatDuration(ms / 1000);

function describeSeconds(seconds: number | null): string {
  if (seconds === null) return "Until you delete it";
  if (seconds === 0) return "At once (within minutes)";
  return formatDuration(seconds);
}

/**
 * What BabyPic's code does to protect photos, and no more (issue 8): the
 * seven practices, the honest limits and a checklist for judging any photo
 * app. Numbers come from worker/lib/privacy-facts.ts, the module the
 * retention sweeps and GET /v1/privacy use, so this page cannot drift from
 * them.
 */
export default function Security() {
  const rules = retentionRules(RETENTION.signedLinkMaxSeconds);
  return (
    <article className="prose">
      <PageHeading title="Security and privacy" />
      <p className="lead">
        This page says exactly what BabyPic does with your photos, and where its protection ends. The same facts are published for machines at{" "}
        <a href={`${API_BASE}/v1/privacy`}>/v1/privacy</a>.
      </p>
      <nav aria-label="On this page" className="toc">
        <ul>
          <li>
            <a href="#practices">Seven practices and how BabyPic meets them</a>
          </li>
          <li>
            <a href="#limits">What we cannot promise</a>
          </li>
          <li>
            <a href="#incidents">If your data is exposed</a>
          </li>
          <li>
            <a href="#authorities">If an authority asks for your data</a>
          </li>
          <li>
            <a href="#processors">Who else handles your data</a>
          </li>
          <li>
            <a href="#red-flags">Red flags: what a photo app should never do</a>
          </li>
          <li>
            <a href="#controller">Who is responsible, and how to reach us</a>
          </li>
        </ul>
      </nav>

      <section aria-labelledby="practices">
        <h2 id="practices">Seven practices and how BabyPic meets them</h2>

        <h3>1. Encrypted connections (TLS)</h3>
        <p>
          The app and the API are served over HTTPS by Cloudflare (the service refuses to start in production with a non-HTTPS address). Both
          send HTTP Strict Transport Security for two years with preload, so browsers refuse a plain HTTP connection. On top of that, your browser seals each photo before it leaves your device: it is encrypted with
          HPKE (RFC 9180: P-256, HKDF-SHA256, AES-256-GCM) to BabyPic&apos;s processing key, and bound to your account and that upload. Proxies and
          logs on the way see only ciphertext. Your browser also shrinks the photo and saves a fresh copy first, which drops its hidden details
          (location, camera data).
        </p>
        {/* The face check (issue 20): the same sentences as GET /v1/privacy's onDeviceChecks. */}
        <p>{ON_DEVICE_CHECKS.join(" ")}</p>

        <h3>2. Encrypted storage</h3>
        <p>
          Our service opens the sealed photo in memory, accepts only real JPEG, PNG or WebP images between 256 pixels and 40 megapixels, and strips
          any remaining metadata again, because a browser cannot be trusted to have done it. Every photo, generated picture and data export is then
          stored in Cloudflare R2 encrypted with AES-256-GCM, in 1 MiB segments, under a key derived for that one file from your own data key.
          Each file is bound to your account, its id and its kind, so it cannot be swapped for another. Your data key is itself encrypted by our
          master key (a secret of the service, never in the code) and kept in a key store of its own: not in the database and not beside your
          files, and no backup includes it, so neither a database restore nor a backup of the files can bring a destroyed key back. Unencrypted
          photos are never written to storage. A scheduled job copies the encrypted files into a separate backup store; each backup copy is
          deleted once it is {plural(RETENTION.backupDays, "day", "days")} old. In the database, your email address, consent, the IP prefixes,
          browsers and details of your activity log, your generation options and your API key names are encrypted with AES-256-GCM under a key
          derived from the same data key and bound to their record; the fingerprint we keep of each generation request, to recognise a
          repeated one, is an HMAC-SHA256 under a secret key, not a plain hash that could be reversed by guessing.
        </p>

        <h3>3. Authentication and access</h3>
        <p>
          You sign in with Clerk. Every request carries a short-lived session token that our API checks against Clerk&apos;s public key, including
          which app it was issued for. Every database query includes your account, so another person&apos;s request for your picture gets
          &ldquo;not found&rdquo;, exactly as if it did not exist. Images are served only to your signed-in session (downloads) or through
          private links signed with HMAC-SHA256 that expire within {describeSeconds(RETENTION.signedLinkMaxSeconds)} and are checked against the
          database on every use, so deleting a picture kills its links at once. API keys you create for your own programs are shown once, stored only as a SHA-256 fingerprint, limited to the
          permissions you choose, can expire, and can be revoked at any time; they can never manage keys, export your data or delete your account.
        </p>
        <p data-testid="sign-in-requirements">
          <strong>Required:</strong> signing in. Deleting your account, downloading your data export, creating an API key that can change things,
          revoking a key, changing how long parent photos are kept and letting support see your pictures also need a sign-in check from the last
          10 minutes; otherwise we ask you to confirm it is you first and change nothing until you do. A session lasts at most 12 hours, and the
          app signs you out after 30 minutes without activity, with a warning a minute before. <strong>Optional:</strong> two-factor
          authentication, which you turn on in <Link to="/app/account">Settings</Link>; when it is on, that sign-in check asks for your second
          factor.
        </p>

        <h3>4. No sharing, no tracking</h3>
        <p>
          BabyPic shows no ads and runs no analytics, tracking pixels or third-party scripts; the only outside script is Clerk&apos;s sign-in, where
          sign-in needs it. The site&apos;s Content Security Policy tells your browser to refuse anything else. We do not sell or share your data.
          Your photos go to our AI model provider, fal.ai, only to make your picture: inside the request itself, never uploaded to its public file
          storage, and with a request not to store it. Each generated picture is checked by fal.ai&apos;s content classifier before we store it; a
          picture it flags is discarded, never stored, and your credits are refunded. Other services that handle your data are listed{" "}
          <a href="#processors">below</a>.
        </p>

        <h3>5. Your rights under the GDPR</h3>
        <ul>
          {RIGHTS.map((r) => (
            <li key={r.right}>
              <strong>{r.right}</strong> ({r.article}).
            </li>
          ))}
        </ul>
        <p>
          In the app: <Link to="/app/account">Settings and your data</Link> has the export (a ZIP with a SHA-256 checksum for every file), consent,
          the parent-photo setting and account deletion; <Link to="/app/activity">Activity</Link> shows every access.
        </p>

        <h3>6. Retention and deletion</h3>
        <p>
          Deleting a picture or photo removes its files, its record and any export holding it at once, and gives you a receipt. Deleting your
          account first destroys your data key (&ldquo;crypto-shredding&rdquo;): every copy of your files in our storage and in our backups
          becomes unreadable at that moment, and so are the encrypted fields of your records in the database&apos;s{" "}
          {RETENTION.databaseHistoryDays}-day history; the backup copies themselves are deleted once they are {plural(RETENTION.backupDays, "day", "days")} old.
          Then API keys are revoked, every file and record is deleted, and Clerk is asked to delete your sign-in identity. If a deletion is
          interrupted, a scheduled job running every 5 minutes finishes it. A sign-in session or API key issued before the deletion is refused
          (&ldquo;this account has been deleted&rdquo;) and cannot bring the account back; signing up again starts a new, empty account. Parent
          photos are deleted in the same step that completes their generation, unless you chose to keep them. What we keep, and for how long:
        </p>
        <div className="table-wrap" role="region" aria-label="Retention rules" tabIndex={0}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Data</th>
                <th scope="col">Rule</th>
                <th scope="col">How long</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.data}</th>
                  <td>{r.rule}</td>
                  <td>{describeSeconds(r.seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>

        <h3>7. An audit log you can read</h3>
        <p>
          Every access to your data is recorded: uploads, views, private links issued and used, downloads, deletions, exports, API key use,
          setting changes and support access, with the time, a shortened network address and the browser. When BabyPic itself reads your data
          (sending your parent photos to the image model, building your export) that is an entry too, with the reason. Support staff need an
          administrator role and can look at your account only inside a support session they open for a limited time (30 minutes unless they choose
          up to 2 hours) with a reason and a ticket, which you see at once in this log and in a banner, where you can end it. In a session they see
          your credits and the states and errors of your generations, never your photos or pictures; each look shows here as &ldquo;Support viewed …
          because …&rdquo;. An engineer sees the pictures of one generation only inside such a session, once you allowed it (or opened a window for
          support in Settings) or a second operator approved it; one operator cannot approve their own request. Failed sign-ins and refused links go to a separate security log, kept {MS(RETENTION.securityLogMs)}. We
          never log session tokens, link signatures, keys or image bytes.
        </p>
        <p>
          An entry is stored before we answer the request it records, so it survives a crash right after; it joins the fingerprint chain below
          moments later, and always before your log is shown or exported. Your Activity page groups entries into moments you recognise and shows
          access by anyone but you first: support staff, BabyPic itself, and a private link opened from a network none of your own visits came
          from. The API and your export keep every entry as recorded.
        </p>
        <p>
          Each entry holds a SHA-256 fingerprint of the one before it, and at least daily while your log changes, on every export and when you
          delete your account, BabyPic signs the newest fingerprint with a key that is not stored in our database (Ed25519; the public keys are at{" "}
          <code>/v1/audit/keys</code>). &ldquo;Check my activity log&rdquo; on your Activity page checks the fingerprints and every signature in
          your browser and tells you where the log first breaks; <code>npm run audit:verify -- --export</code> does the same with an export file.
        </p>
        <p>
          What this does not prove: someone able to write our database could rewrite entries and recompute the fingerprints, and delete our copies
          of the signatures. A signed checkpoint you keep (your export) still shows such a rewrite of everything it covers; newer entries are not
          covered until the next checkpoint you keep. Someone who also holds our signing key, or who controls the page and keys you check with,
          could re-sign a rewritten log; only comparing with copies you kept earlier can show that.
        </p>
      </section>

      <section aria-labelledby="limits">
        <h2 id="limits">What we cannot promise</h2>
        <ul>
          {LIMITS.map((l) => (
            <li key={l}>{l}</li>
          ))}
          <li>Our service decrypts your photos in memory, to check them and to send them to the model; it never writes them unencrypted.</li>
          <li>Anyone who gets a data export you downloaded can read everything in it: keep the ZIP safe, and delete it when you are done.</li>
        </ul>
      </section>

      <section aria-labelledby="incidents">
        <h2 id="incidents">If your data is exposed</h2>
        <p>
          When someone may have accessed data they should not have, our privacy team records an incident with its time window and the kinds of
          data concerned, and finds the people affected from the audit log: everyone whose data was accessed in that window in the ways the
          incident concerns. Each of them gets a notice in the app and, if the account has an email address, an email that lists what of
          theirs was accessed. The team&apos;s console counts down the 72 hours that GDPR Art. 33 gives us to tell the supervisory authority, and
          we publish a post-mortem at <code>/incidents/&lt;name&gt;</code>. Security researchers can report weaknesses under our{" "}
          <Link to="/security/disclosure">disclosure policy</Link>.
        </p>
      </section>

      <section aria-labelledby="authorities">
        <h2 id="authorities">If an authority asks for your data</h2>
        <p>
          Our privacy team records every such demand: its type, the authority, the legal basis and the date; the review decision; and exactly which
          data was produced, item by item (nothing when we refuse). You are told with a notice in the app and, if your account has an email
          address, an email that states all of this. When we may not tell you yet, the record holds the reason and a date to review it, and
          nothing appears in your activity log until you are told. Our <Link to="/transparency">transparency report</Link> counts these records
          by year, type and outcome; it is computed from them each time it is shown, never written by hand.
        </p>
      </section>

      <section aria-labelledby="processors">
        <h2 id="processors">Who else handles your data</h2>
        <div className="table-wrap" role="region" aria-label="Sub-processors" tabIndex={0}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">What for</th>
                <th scope="col">What it receives</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {SUB_PROCESSORS.map((p) => (
                <tr key={p.name}>
                  <th scope="row">
                    <a href={p.url} rel="noreferrer">
                      {p.name}
                    </a>
                  </th>
                  <td>{p.purpose}</td>
                  <td>{p.dataCategories.join(", ")}</td>
                  <td>{p.when}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="red-flags">
        <h2 id="red-flags">Red flags: what a photo app should never do</h2>
        <p>Use this list on any app you give photos of faces to, including this one.</p>
        <ul className="checklist">
          <li>Take your photos without saying who processes them, where, and for how long.</li>
          <li>Keep your photos after the result is made, unless you chose that.</li>
          <li>Make deleting hard: no delete button, a support email instead, or &ldquo;within 90 days&rdquo;.</li>
          <li>Give no receipt or proof that something was deleted.</li>
          <li>Share public image links that never expire, or keep working after you delete the image.</li>
          <li>Load ads, analytics or tracking pixels on the pages where you upload faces.</li>
          <li>Call itself &ldquo;end-to-end encrypted&rdquo; while a server-side AI model looks at your photos.</li>
          <li>Keep the location and camera details hidden in your photo files.</li>
          <li>Use your photos to train AI models without asking you separately.</li>
          <li>Not let you download everything it holds about you.</li>
          <li>Not show you who accessed your data, including its own staff.</li>
          <li>Not ask you to confirm that the people pictured agreed.</li>
        </ul>
        <p>
          You can check BabyPic against it: see <Link to="/privacy">the privacy policy</Link>, your <Link to="/app/activity">activity log</Link>,
          and the export of your data. Uploads never used are deleted after {plural(RETENTION.abandonedUploadMs / 3_600_000, "hour", "hours")}.
        </p>
      </section>

      <WhoWeAre headingId="controller" />
    </article>
  );
}
