import { Link } from "react-router";
import { RETENTION, TERMS_VERSION } from "#shared/privacy-facts";
import { PageHeading } from "../components/PageHeading";
import "../components/pages.css";

/** The terms of use. Their version is TERMS_VERSION: changing the terms means asking every user to consent again. */
export default function Terms() {
  return (
    <article className="prose">
      <PageHeading title="Terms of use" />
      <p className="muted">
        Version <strong data-testid="terms-version">{TERMS_VERSION}</strong>. Read them with the <Link to="/privacy">privacy policy</Link>.
      </p>

      <section aria-labelledby="service">
        <h2 id="service">The service</h2>
        <p>
          BabyPic makes pictures of what a baby of two people could look like, from one photo of each. The pictures are made by an AI model: they
          are an illustration for fun, not a prediction, and say nothing about genetics, health or parentage.
        </p>
      </section>

      <section aria-labelledby="consent">
        <h2 id="consent">Photos of other people</h2>
        <p>
          Upload only photos you have the right to use, of people who agreed to it. Before your first picture, and again whenever these terms
          change, you confirm this and accept the current version. Do not upload images that are unlawful, sexual, or meant to harass or deceive
          anyone.
        </p>
      </section>

      <section aria-labelledby="credits">
        <h2 id="credits">Credits and payments</h2>
        <ul>
          <li>One credit makes one picture request. New accounts get free welcome credits.</li>
          <li>If a picture fails or you cancel it before it is done, its credits are given back automatically.</li>
          <li>
            Credits are sold in packs through Creem, our merchant of record, which handles payment, tax and receipts. If a payment is refunded, its
            credits are removed.
          </li>
          <li>Credits have no cash value and are lost when you delete your account.</li>
        </ul>
      </section>

      <section aria-labelledby="yours">
        <h2 id="yours">Your content</h2>
        <p>
          Your photos and pictures stay yours. We use them only to provide the service to you, as the <Link to="/privacy">privacy policy</Link>{" "}
          describes, and never to train models or for advertising. Parent photos are deleted when your picture is ready unless you keep them for{" "}
          {RETENTION.keepPhotosDaysChoices.filter((d) => d > 0).join(" or ")} days; pictures stay until you delete them.
        </p>
      </section>

      <section aria-labelledby="api">
        <h2 id="api">API keys</h2>
        <p>
          If you create API keys, you are responsible for keeping them secret and for what your programs do with them. They act only on your own
          data, within the permissions you chose, and are subject to rate limits.
        </p>
      </section>

      <section aria-labelledby="ending">
        <h2 id="ending">Ending</h2>
        <p>
          You can delete your account at any time in <Link to="/app/account">Settings and your data</Link>; it takes effect at once.
        </p>
      </section>

      <section aria-labelledby="warranty">
        <h2 id="warranty">No guarantee</h2>
        <p>
          The service is provided as it is. We work to keep it available and your data safe, as described on the{" "}
          <Link to="/security">Security and privacy</Link> page, but cannot promise it is always available or free of errors. Nothing in these
          terms limits rights you have by law as a consumer.
        </p>
      </section>
    </article>
  );
}
