import type { components } from "../../lib/api/schema";

type Generation = components["schemas"]["Generation"];

export const STATUS_LABELS: Record<Generation["status"], string> = {
  queued: "Waiting to start",
  submitted: "Being made",
  completed: "Ready",
  failed: "Failed",
  canceled: "Canceled",
};

export const GENDER_LABELS: Record<Generation["options"]["gender"], string> = { girl: "Girl", boy: "Boy", surprise: "Surprise" };
export const AGE_LABELS: Record<Generation["options"]["ageGroup"], string> = { newborn: "Newborn", toddler: "Toddler", child: "Child" };

/** "Looks more like the mother (70 %)" from the 0..1 resemblance option (1 = mother). */
export function describeResemblance(r: number): string {
  if (Math.abs(r - 0.5) < 0.05) return "Equally like both parents";
  const pct = Math.round((r > 0.5 ? r : 1 - r) * 100);
  return `Looks more like the ${r > 0.5 ? "mother" : "father"} (${pct} %)`;
}
