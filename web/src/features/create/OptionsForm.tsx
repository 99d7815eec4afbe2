import { useId } from "react";
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
        <div className="choice-row">
          {GENDERS.map((g) => (
            <label key={g.value} className="choice">
              <input
                type="radio"
                name={`${id}-gender`}
                value={g.value}
                checked={value.gender === g.value}
                onChange={() => set("gender", g.value)}
              />
              {g.label}
            </label>
          ))}
        </div>
      </fieldset>

      <fieldset disabled={disabled}>
        <legend>Age</legend>
        <div className="choice-row">
          {AGES.map((a) => (
            <label key={a.value} className="choice">
              <input
                type="radio"
                name={`${id}-age`}
                value={a.value}
                checked={value.ageGroup === a.value}
                onChange={() => set("ageGroup", a.value)}
              />
              {a.label} <span className="muted small">({a.hint})</span>
            </label>
          ))}
        </div>
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
        <div className="choice-row">
          {[1, 2, 3, 4].map((n) => (
            <label key={n} className="choice">
              <input type="radio" name={`${id}-images`} value={n} checked={value.images === n} onChange={() => set("images", n)} />
              {n}
            </label>
          ))}
        </div>
        <p className="muted small">The price is the same for 1 to 4 pictures.</p>
      </fieldset>
    </div>
  );
}
