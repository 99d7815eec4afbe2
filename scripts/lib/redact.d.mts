/** The line with every signature in a URL query or an input-link path replaced. */
export function redactLine(line: string): string;
