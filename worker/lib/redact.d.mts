/** The text with signatures, link tokens, credentials and email addresses replaced. */
export function redactText(text: string): string;
/** The text with every URL's query and fragment cut off. */
export function stripQueries(text: string): string;
/** Field names whose values are never logged, whatever they hold. */
export const SECRET_FIELD: RegExp;
