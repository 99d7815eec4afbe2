import { useEffect, useRef, useState } from "react";
import type { CreatedApiKey } from "./api";

/**
 * The secret of a key just created: shown once (only its SHA-256 is stored),
 * with a copy button and a plain warning. Focus moves here so keyboard and
 * screen-reader users meet it first.
 */
export function NewKeySecret({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied("yes");
    } catch {
      // No clipboard permission (e.g. an insecure origin): select it for a manual copy.
      field.current?.select();
      setCopied("no");
    }
  };

  return (
    <section className="card secret-card" aria-labelledby="new-key-title" data-testid="new-key">
      <h2 id="new-key-title" ref={heading} tabIndex={-1}>
        Your new API key “{created.name}”
      </h2>
      <p className="notice notice-warning">
        <strong>Copy it now: this is the only time it is shown.</strong> BabyPic keeps only a fingerprint (SHA-256) of it and cannot show it
        again. Store it in a password manager or your server&apos;s secret store, never in code or a public place.
      </p>
      <label htmlFor="new-key-secret">API key</label>
      <div className="copy-row">
        <input id="new-key-secret" ref={field} className="input mono" readOnly value={created.secret} onFocus={(e) => e.currentTarget.select()} spellCheck={false} />
        <button type="button" className="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p role="status" className="small">
        {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Could not use the clipboard: the key is selected, press Ctrl+C (or ⌘C) to copy it." : ""}
      </p>
      <p>
        <button type="button" className="button button-secondary" onClick={onDone}>
          I have stored it, hide the key
        </button>
      </p>
    </section>
  );
}
