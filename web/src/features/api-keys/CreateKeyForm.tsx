import { useState, type FormEvent } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { ApiError, describeError } from "../../lib/api/problem";
import { EXPIRY_CHOICES, SCOPE_DESCRIPTIONS, SCOPES, useCreateApiKey, type CreatedApiKey, type Scope } from "./api";
import { DEFAULT_SCOPES } from "./key-state";

export function CreateKeyForm({ onCreated }: { onCreated: (key: CreatedApiKey) => void }) {
  const create = useCreateApiKey();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Set<Scope>>(() => new Set(DEFAULT_SCOPES));
  const [expiry, setExpiry] = useState("90");
  const [errors, setErrors] = useState<{ name?: string; scopes?: string }>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    const next: typeof errors = {};
    if (!trimmed) next.name = "Give the key a name, e.g. the app that will use it.";
    else if (trimmed.length > 64) next.name = "Use at most 64 characters.";
    if (scopes.size === 0) next.scopes = "Choose at least one permission.";
    setErrors(next);
    if (next.name || next.scopes) {
      document.getElementById(next.name ? "key-name" : `scope-${SCOPES[0]}`)?.focus();
      return;
    }
    const days = expiry === "never" ? undefined : Number(expiry);
    create.mutate(
      { name: trimmed, scopes: SCOPES.filter((s) => scopes.has(s)), ...(days ? { expiresInDays: days } : {}) },
      {
        onSuccess: (key) => {
          setName("");
          setScopes(new Set(DEFAULT_SCOPES));
          onCreated(key);
        },
      },
    );
  };

  const toggle = (scope: Scope, on: boolean) =>
    setScopes((prev) => {
      const next = new Set(prev);
      if (on) next.add(scope);
      else next.delete(scope);
      return next;
    });

  const serverFieldErrors = create.error instanceof ApiError ? create.error.fields : [];

  return (
    <form className="card form" aria-labelledby="create-key-title" onSubmit={submit} noValidate>
      <h2 id="create-key-title">Create a key</h2>
      <div className="field">
        <label htmlFor="key-name">Name</label>
        <input
          id="key-name"
          className="input"
          value={name}
          maxLength={64}
          autoComplete="off"
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={errors.name ? "key-name-error" : "key-name-hint"}
          onChange={(e) => setName(e.target.value)}
        />
        <p id="key-name-hint" className="muted small">
          So you recognise it later, e.g. “My photo booth”.
        </p>
        {errors.name && (
          <p id="key-name-error" className="error-text small">
            {errors.name}
          </p>
        )}
      </div>
      <fieldset className="field" aria-describedby={errors.scopes ? "scopes-error" : undefined}>
        <legend>Permissions</legend>
        <p className="muted small">Give the key only what it needs. It can never manage keys, export your data or delete your account.</p>
        <ul className="checkbox-list">
          {SCOPES.map((scope) => (
            <li key={scope}>
              <input id={`scope-${scope}`} type="checkbox" checked={scopes.has(scope)} onChange={(e) => toggle(scope, e.target.checked)} />
              <label htmlFor={`scope-${scope}`}>
                <code>{scope}</code> <span className="muted">{SCOPE_DESCRIPTIONS[scope]}</span>
              </label>
            </li>
          ))}
        </ul>
        {errors.scopes && (
          <p id="scopes-error" className="error-text small">
            {errors.scopes}
          </p>
        )}
      </fieldset>
      <div className="field">
        <label htmlFor="key-expiry">Expires after</label>
        <select id="key-expiry" className="input" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
          {EXPIRY_CHOICES.map((c) => (
            <option key={c.label} value={c.days === null ? "never" : String(c.days)}>
              {c.label}
            </option>
          ))}
        </select>
      </div>
      {create.isError && (
        <ErrorNotice
          title="Could not create the key"
          message={[describeError(create.error), ...serverFieldErrors.map((f) => `${f.field}: ${f.message}`)].join(" ")}
        />
      )}
      <button type="submit" className="button" disabled={create.isPending}>
        {create.isPending ? "Creating…" : "Create key"}
      </button>
    </form>
  );
}
