/**
 * The one logger of the Worker: a JSON line `{ level, event, ...fields }` per
 * call, redacted by construction (docs/decisions/0020-layers-and-one-logger.md).
 * - Fields are typed: strings, numbers, booleans, null, or arrays of them.
 *   No objects, so no request, header bag, row or byte array can be dumped.
 * - A field whose name says secret (token, signature, key, email, ...) is
 *   logged as "[redacted]" whatever it holds.
 * - Every string has URL queries and fragments cut off (a signed URL's
 *   capability lives there), and signatures, link tokens, Bearer credentials,
 *   JWTs, API keys, email addresses and key-like runs replaced
 *   (worker/lib/redact.mjs, the same rules as the local stack's request lines).
 * - An error is logged by its name and message (`errorText`), never its stack.
 */
import { redactText, SECRET_FIELD, stripQueries } from "./redact.mjs";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Readonly<Record<string, LogValue | readonly LogValue[]>>;

/** Longest string value kept; the rest is cut (a message is for a reader, not a dump). */
const MAX_STRING = 500;

function clean(value: LogValue): LogValue {
  if (typeof value !== "string") return value;
  const text = redactText(stripQueries(value));
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
}

/** The JSON line for one event, redacted. Exported for tests; code calls `log`. */
export function logLine(level: LogLevel, event: string, fields: LogFields = {}): string {
  const out: Record<string, LogValue | LogValue[]> = { level, event: clean(event) };
  for (const [name, value] of Object.entries(fields)) {
    if (name === "level" || name === "event" || value === undefined) continue;
    if (SECRET_FIELD.test(name)) out[name] = "[redacted]";
    else out[name] = Array.isArray(value) ? (value as readonly LogValue[]).map(clean) : clean(value as LogValue);
  }
  return JSON.stringify(out);
}

const sink: Record<LogLevel, (line: string) => void> = {
  debug: (line) => console.debug(line),
  info: (line) => console.info(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

export function log(level: LogLevel, event: string, fields?: LogFields): void {
  sink[level](logLine(level, event, fields));
}

/** Shorthands: `logger.error("queue.retry", { kind, attempts, error: errorText(err) })`. */
export const logger = {
  debug: (event: string, fields?: LogFields) => log("debug", event, fields),
  info: (event: string, fields?: LogFields) => log("info", event, fields),
  warn: (event: string, fields?: LogFields) => log("warn", event, fields),
  error: (event: string, fields?: LogFields) => log("error", event, fields),
};

/** What of a thrown value may be logged: "Name: message" (cleaned like every field), never the stack. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The name of a thrown value's class, for lines that must not carry even its message. */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : "unknown";
}
