import { Link } from "react-router";
import { PageHeading } from "../components/PageHeading";

/** What BabyPic does and, in plain words, what happens to the photos. */
export function Landing() {
  return (
    <>
      <section className="hero" aria-labelledby="hero-title">
        <PageHeading title="See what your baby could look like">
          <span id="hero-title">See what your baby could look like, and keep your photos private</span>
        </PageHeading>
        <p className="lead">
          Upload one photo of each parent. An AI model makes a picture of a baby who could be yours. Only you can see it, and you can delete
          everything at any time.
        </p>
        <p>
          <Link to="/app" className="button button-large">
            Get started
          </Link>
        </p>
      </section>

      <section aria-labelledby="photos-title" className="card">
        <h2 id="photos-title">What happens to your photos</h2>
        <ol className="steps">
          <li>
            <strong>Your browser prepares each photo.</strong> It shrinks it and saves a fresh copy, which drops hidden details such as the
            place where it was taken (GPS) and the camera&apos;s data.
          </li>
          <li>
            <strong>It is locked before it leaves your device.</strong> The photo is encrypted to BabyPic&apos;s processing key, so the
            networks and logs on the way only see scrambled data. This is not end-to-end encryption: our service has to open the photo so
            the AI model can use it.
          </li>
          <li>
            <strong>We check it and store it encrypted.</strong> We accept only real JPEG, PNG or WebP images, remove any remaining hidden
            data, and store the photo encrypted with a key that belongs to your account alone.
          </li>
          <li>
            <strong>The AI model sees it only to make your picture.</strong> We send the photos to Fal.AI, our model provider, and ask it
            not to keep them and to delete them afterwards.
          </li>
          <li>
            <strong>Only you can see the result.</strong> Images open through private links that expire within an hour and stop working as
            soon as you delete the image.
          </li>
          <li>
            <strong>Parent photos are deleted once your picture is ready,</strong> unless you choose to keep them for 7 or 30 days.
            Results stay until you delete them.
          </li>
          <li>
            <strong>You stay in control.</strong> Delete a picture or your whole account at once, download everything we hold about you,
            and see every time your data was accessed.
          </li>
        </ol>
      </section>

      <section aria-labelledby="limits-title" className="card">
        <h2 id="limits-title">What we cannot promise</h2>
        <ul>
          <li>The AI model has to see your photos to work; that is why we call this encryption to our processing key, not end-to-end.</li>
          <li>
            Our database provider keeps 30 days of history for recovery. Those records never contain photos or keys, so deleted photos
            cannot come back from them.
          </li>
          <li>Our sign-in provider, Clerk, holds your email address.</li>
        </ul>
        <p>
          <Link to="/security">Read exactly how we protect your photos, and what to look out for in any photo app</Link>.
        </p>
      </section>
    </>
  );
}
