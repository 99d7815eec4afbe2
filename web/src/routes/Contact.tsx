import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ErrorNotice } from "../components/ErrorNotice";
import { PageHeading } from "../components/PageHeading";
import { useSendPrivacyRequest, type PrivacyRequestInput } from "../features/privacy-team/contact-api";
import { ApiError, describeError } from "../lib/api/problem";
import { formatDate } from "../lib/format";
import "../components/pages.css";

const TYPES: { value: PrivacyRequestInput["type"]; label: string; hint: string }[] = [
  { value: "question", label: "A question", hint: "About BabyPic and your data." },
  { value: "access", label: "See my data", hint: "A copy of what we hold about you (GDPR Art. 15)." },
  { value: "deletion", label: "Delete my data", hint: "Erase what we hold about you (GDPR Art. 17)." },
  { value: "takedown", label: "I am pictured without my consent", hint: "Ask us to remove a generated picture that shows you." },
];

/**
 * The public contact form for the privacy team (POST /v1/privacy-requests).
 * Anyone can use it; nothing is stored but what is typed here, and the
 * email address is erased when the request is closed.
 */
export default function Contact() {
  const send = useSendPrivacyRequest();
  const [type, setType] = useState<PrivacyRequestInput["type"]>("question");
  const [email, setEmail] = useState("");
  const [message, setMessage] = useState("");
  const [subject, setSubject] = useState("");
  const fieldError = (name: string) => (send.error instanceof ApiError ? send.error.fields.find((f) => f.field === name)?.message : undefined);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    send.mutate({ type, email, message, ...(type === "takedown" ? { subject } : {}) });
  };

  if (send.isSuccess) {
    return (
      <article className="prose">
        <PageHeading title="Request received" />
        <p role="status" data-testid="request-received">
          Your reference is <strong className="mono">{send.data.id}</strong>. We will answer at the address you gave
          {send.data.dueAt ? (
            <>
              , at the latest by <time dateTime={send.data.dueAt}>{formatDate(send.data.dueAt)}</time> (the legal deadline of one month)
            </>
          ) : null}
          .
        </p>
        <p>
          <Link to="/">Back to BabyPic</Link>
        </p>
      </article>
    );
  }

  const error = (name: string) => {
    const m = fieldError(name);
    return m ? (
      <p className="error-text" id={`${name}-error`}>
        {m}
      </p>
    ) : null;
  };

  return (
    <article className="prose">
      <PageHeading title="Contact the privacy team" />
      <p>
        No account needed. We keep only what you type here, set no cookie and record no network address; your email address is erased when your
        request is closed. If you have an account, you can also download or delete your data yourself in{" "}
        <Link to="/app/account">Settings and your data</Link>.
      </p>
      <form onSubmit={submit} noValidate aria-label="Privacy request">
        <fieldset className="field">
          <legend>What do you need?</legend>
          <ul className="radio-list">
            {TYPES.map((t) => (
              <li key={t.value}>
                <input type="radio" id={`type-${t.value}`} name="type" value={t.value} checked={type === t.value} onChange={() => setType(t.value)} aria-describedby={`type-${t.value}-hint`} />
                <label htmlFor={`type-${t.value}`}>
                  {t.label}{" "}
                  <span className="muted small" id={`type-${t.value}-hint`}>
                    {t.hint}
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
        {type === "takedown" && (
          <div className="field">
            <label htmlFor="subject">Which picture? (its link or id)</label>
            <input id="subject" className="input" value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={500} aria-invalid={Boolean(fieldError("subject"))} aria-describedby={fieldError("subject") ? "subject-error" : undefined} />
            {error("subject")}
          </div>
        )}
        <div className="field">
          <label htmlFor="email">Your email address</label>
          <input id="email" type="email" autoComplete="email" className="input" value={email} onChange={(e) => setEmail(e.target.value)} maxLength={254} aria-invalid={Boolean(fieldError("email"))} aria-describedby={fieldError("email") ? "email-error" : undefined} />
          {error("email")}
        </div>
        <div className="field">
          <label htmlFor="message">Your message</label>
          <textarea id="message" className="input" rows={6} value={message} onChange={(e) => setMessage(e.target.value)} maxLength={5000} aria-invalid={Boolean(fieldError("message"))} aria-describedby={fieldError("message") ? "message-error" : undefined} />
          {error("message")}
        </div>
        {send.isError && <ErrorNotice title="Your request was not sent" message={describeError(send.error)} />}
        <button type="submit" className="button" disabled={send.isPending}>
          {send.isPending ? "Sending…" : "Send request"}
        </button>
      </form>
    </article>
  );
}
