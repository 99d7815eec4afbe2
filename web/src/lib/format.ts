/** Dates and numbers for people, in the browser's own locale. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });
const signed = new Intl.NumberFormat(undefined, { signDisplay: "exceptZero" });

export function formatDateTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime.format(t);
}

export function formatDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateOnly.format(t);
}

/** +10, -1, 0: credit movements. */
export function formatDelta(n: number): string {
  return signed.format(n);
}

const plurals = new Intl.PluralRules("en");
const count = new Intl.NumberFormat("en");

/**
 * "1 day", "2 days", "0 images": the count and the word in the form English
 * needs for it (Intl.PluralRules, so 1 and 1.0 and 21 are each handled by
 * the language's rule, not by `n === 1`). The site is written in English,
 * so the rule is English's whatever the browser's locale.
 */
export function plural(n: number, one: string, many: string): string {
  return `${count.format(n)} ${plurals.select(n) === "one" ? one : many}`;
}

/** A duration in whole days, hours or minutes: "1 day", "24 hours" would read as "1 day", "90 days", "1 hour", "5 minutes". */
export function formatDuration(seconds: number): string {
  if (seconds > 0 && seconds % 86_400 === 0) return plural(seconds / 86_400, "day", "days");
  if (seconds > 0 && seconds % 3_600 === 0) return plural(seconds / 3_600, "hour", "hours");
  return plural(Math.round(seconds / 60), "minute", "minutes");
}
