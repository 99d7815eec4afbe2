import { useId, type ReactNode } from "react";
import type { components } from "../../lib/api/schema";

type CreateGeneration = components["schemas"]["CreateGeneration"];
export type GenerationOptions = Pick<CreateGeneration, "gender" | "ageGroup" | "resemblance" | "images">;

export const DEFAULT_OPTIONS: GenerationOptions = { gender: "surprise", ageGroup: "newborn", resemblance: 0.5, images: 1 };

const GENDERS: { value: GenerationOptions["gender"]; label: string }[] = [
  { value: "girl", label: "Girl" },
  { value: "boy", label: "Boy" },
  { value: "surprise", label: "Surprise me" },
];

const AGES: { value: GenerationOptions["ageGroup"]; label: string; hint: string }[] = [
  { value: "newborn", label: "Newborn", hint: "first months" },
  { value: "toddler", label: "Toddler", hint: "about 1–3 years" },
  { value: "child", label: "Child", hint: "about 4–8 years" },
];

const IMAGE_COUNTS: { value: number; label: ReactNode }[] = [1, 2, 3, 4].map((n) => ({ value: n, label: n }));

/** A row of radio buttons named `name`, one per choice, the `checked` one selected. */
function RadioRow<V extends string | number>({
  name,
  choices,
  checked,
  onChoose,
}: {
  name: string;
  choices: readonly { value: V; label: ReactNode }[];
  checked: V;
  onChoose: (value: V) => void;
}) {
  return (
    <div className="choice-row">
      {choices.map((c) => (
        <label key={c.value} className="choice">
          <input type="radio" name={name} value={c.value} checked={checked === c.value} onChange={() => onChoose(c.value)} />
          {c.label}
        </label>
      ))}
    </div>
  );
}

/** resemblance: 0 = like the father, 1 = like the mother (worker/routes/generations.ts). */
export function describeResemblance(value: number): string {
  if (value <= 0.1) return "Mostly like the father";
  if (value < 0.4) return "More like the father";
  if (value <= 0.6) return "Equally like both parents";
  if (value < 0.9) return "More like the mother";
  return "Mostly like the mother";
}

export function OptionsForm({
  value,
  onChange,
  disabled,
}: {
  value: GenerationOptions;
  onChange: (next: GenerationOptions) => void;
  disabled?: boolean;
}) {
  const id = useId();
  const set = <K extends keyof GenerationOptions>(key: K, v: GenerationOptions[K]) => onChange({ ...value, [key]: v });
  return (
    <div className="options">
      <fieldset disabled={disabled}>
        <legend>Baby&apos;s gender</legend>
        <RadioRow name={`${id}-gender`} choices={GENDERS} checked={value.gender} onChoose={(v) => set("gender", v)} />
      </fieldset>

      <fieldset disabled={disabled}>
        <legend>Age</legend>
        <RadioRow
          name={`${id}-age`}
          choices={AGES.map((a) => ({
            value: a.value,
            label: (
              <>
                {a.label} <span className="muted small">({a.hint})</span>
              </>
            ),
          }))}
          checked={value.ageGroup}
          onChoose={(v) => set("ageGroup", v)}
        />
      </fieldset>

      <fieldset disabled={disabled}>
        <legend>Resemblance</legend>
        <div className="slider">
          <label htmlFor={`${id}-resemblance`} className="visually-hidden">
            Resemblance, from the father (left) to the mother (right)
          </label>
          <span aria-hidden="true" className="small">
            Father
          </span>
          <input
            id={`${id}-resemblance`}
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={value.resemblance}
            aria-valuetext={describeResemblance(value.resemblance)}
            onChange={(e) => set("resemblance", Number(e.currentTarget.value))}
          />
          <span aria-hidden="true" className="small">
            Mother
          </span>
        </div>
        <p className="muted small" aria-hidden="true">
          {describeResemblance(value.resemblance)}
        </p>
      </fieldset>

      <fieldset disabled={disabled}>
        <legend>Number of pictures</legend>
        <RadioRow name={`${id}-images`} choices={IMAGE_COUNTS} checked={value.images} onChoose={(v) => set("images", v)} />
        <p className="muted small">The price is the same for 1 to 4 pictures.</p>
      </fieldset>
    </div>
  );
}
