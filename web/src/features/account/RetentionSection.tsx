import { useState, type FormEvent } from "react";
import { RETENTION } from "#shared/privacy-facts";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { describeError } from "../../lib/api/problem";
import { useSaveSettings, useSettings, type KeepPhotosDays } from "./api";

const CHOICE_TEXT: Record<KeepPhotosDays, { label: string; hint: string }> = {
  0: { label: "Delete them as soon as the picture is ready", hint: "Recommended. Within minutes of each finished picture." },
  7: { label: "Keep them for 7 days", hint: "So you can make more pictures from the same photos without uploading again." },
  30: { label: "Keep them for 30 days", hint: "The longest we keep parent photos." },
};

/** How long parent photos are kept after their picture is made (PATCH /v1/me/settings). */
export function RetentionSection() {
  const settings = useSettings();
  const save = useSaveSettings();
  const [choice, setChoice] = useState<KeepPhotosDays | null>(null);
  const current = settings.data?.keepPhotosDays;
  const selected = choice ?? current ?? 0;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(selected, { onSuccess: () => setChoice(null) });
  };

  return (
    <section className="card" aria-labelledby="retention-title">
      <h2 id="retention-title">Parent photos</h2>
      {settings.isPending && <Loading label="Loading your settings" />}
      {settings.isError && <ErrorNotice title="Could not load your settings" message={describeError(settings.error)} onRetry={() => void settings.refetch()} />}
      {settings.data && (
        <form onSubmit={submit}>
          <fieldset className="field">
            <legend>After a picture is made, what happens to the two parent photos?</legend>
            <ul className="radio-list">
              {RETENTION.keepPhotosDaysChoices.map((days) => (
                <li key={days}>
                  <input
                    type="radio"
                    id={`keep-${days}`}
                    name="keepPhotosDays"
                    value={days}
                    checked={selected === days}
                    aria-describedby={`keep-${days}-hint`}
                    onChange={() => setChoice(days)}
                  />
                  <label htmlFor={`keep-${days}`}>{CHOICE_TEXT[days].label}</label>
                  <p id={`keep-${days}-hint`} className="muted small">
                    {CHOICE_TEXT[days].hint}
                  </p>
                </li>
              ))}
            </ul>
          </fieldset>
          <p className="muted small">
            Changing this also applies to photos you already keep. Pictures you made stay until you delete them; uploads never used are deleted
            after {RETENTION.abandonedUploadMs / 3_600_000} hours.
          </p>
          {save.isError && <ErrorNotice title="Could not save" message={describeError(save.error)} />}
          <button type="submit" className="button" disabled={save.isPending || selected === current}>
            {save.isPending ? "Saving…" : "Save"}
          </button>
          <span role="status" className="small status-inline">
            {save.isSuccess && choice === null ? " Saved." : ""}
          </span>
        </form>
      )}
    </section>
  );
}
