/** The line with every signature, link token, credential and email address replaced. */
export function redactLine(line: string): string;
