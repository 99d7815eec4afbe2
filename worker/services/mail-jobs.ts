/**
 * Transactional mail through the queue (`mail.send`), so a mail that cannot
 * be sent now is retried with backoff and, when attempts run out or the
 * error cannot heal (no address, a 4xx from the provider), recorded in
 * `ops_issues` for the operator: never skipped silently.
 *
 * The address is resolved when the mail is sent (services/mail-recipient.ts).
 * Only an account being deleted has it resolved earlier, before its identity
 * is deleted, and carried in the message for the mail's lifetime.
 */
import type { JobHandler } from "./jobs";
import type { JobMessage } from "../queue/messages";
import type { Services } from "./types";
import { MailError } from "./mailer";
import { RecipientLookupError, resolveRecipient } from "./mail-recipient";
import { MAX_TASK_ATTEMPTS, recordIssue, resolveIssue, taskDelaySeconds } from "./ops-issues";

export type MailTemplate = "account_deleted" | "export_ready";
type MailJob = Extract<JobMessage, { kind: "mail.send" }>;

/** What the local outbox records as the recipient of an account-deletion confirmation. */
export const DELETED_RECIPIENT = "(address of a deleted account, not kept)";

/** Subject and text per template; `ref` is the receipt or export id, nothing else of the account. */
export function renderMail(template: MailTemplate, ref: string): { subject: string; text: string } {
  switch (template) {
    case "account_deleted":
      return {
        subject: "Your BabyPic account has been deleted",
        text: [
          "Your BabyPic account is being deleted, as you asked.",
          "",
          "The key that encrypted your photos and results has already been destroyed, so nothing of yours can be read any more,",
          "and the remaining encrypted files and records are removed within minutes. Your sign-in identity is deleted too.",
          "",
          `Deletion receipt: ${ref}`,
          "",
          "If you did not ask for this, reply to this message.",
        ].join("\n"),
      };
    case "export_ready":
      return {
        subject: "Your BabyPic data export is ready",
        text: [
          "The export of your BabyPic data you asked for is ready.",
          "",
          "Sign in and open Settings, Your data, to download it. It is deleted one hour after it was made;",
          "you can ask for a new one at any time.",
          "",
          "If you did not ask for this, reply to this message.",
        ].join("\n"),
      };
  }
}

/** Queues a mail; the first attempt runs as soon as the consumer takes it. */
export async function queueMail(s: Services, mail: { template: MailTemplate; ref: string; userId?: string; to?: string }): Promise<void> {
  await s.env.JOBS.send({ kind: "mail.send", ...mail, attempt: 1 });
}

export type MailResult = "sent" | "retrying" | "failed";

/** One attempt at a queued mail. */
export async function sendQueuedMail(s: Services, msg: MailJob): Promise<MailResult> {
  const ref = `${msg.template}/${msg.ref}`;
  const attempt = msg.attempt;
  const fail = async (error: string): Promise<MailResult> => {
    await recordIssue(s, { kind: "mail.send", ref, status: "failed", attempts: attempt, error });
    return "failed";
  };
  const retry = async (error: string): Promise<MailResult> => {
    if (attempt >= MAX_TASK_ATTEMPTS) return fail(error);
    await recordIssue(s, { kind: "mail.send", ref, status: "retrying", attempts: attempt, error });
    await s.env.JOBS.send({ ...msg, attempt: attempt + 1 }, { delaySeconds: taskDelaySeconds(attempt) });
    return "retrying";
  };

  let to = msg.to;
  if (!to) {
    if (!msg.userId) return fail("no recipient in the message");
    let found;
    try {
      found = await resolveRecipient(s, msg.userId);
    } catch (err) {
      if (err instanceof RecipientLookupError) return retry(err.message);
      throw err;
    }
    if (!found.ok) return fail(found.reason === "no_account" ? "the account no longer exists" : "no email address known for the account");
    to = found.address;
  }

  const { subject, text } = renderMail(msg.template, msg.ref);
  const { mailer } = s;
  // The local outbox (the development stand-in for a mail provider) is a D1
  // table: it never keeps a deleted account's address, so the deletion leaves
  // nothing naming the person (docs/data-rights.md); the mail itself is kept.
  if (mailer.kind === "outbox" && msg.template === "account_deleted") to = DELETED_RECIPIENT;
  try {
    await mailer.send({ to, subject, text, idempotencyKey: ref });
  } catch (err) {
    if (err instanceof MailError) {
      // 429 and 5xx may pass later; any other 4xx (bad address, bad key) will not.
      return err.status === 429 || err.status >= 500 ? retry(err.message) : fail(err.message);
    }
    return retry(`mail provider unreachable: ${err instanceof Error ? err.name : "unknown"}`);
  }
  if (attempt > 1) await resolveIssue(s, "mail.send", ref);
  return "sent";
}

export function mailHandlers(): Record<"mail.send", JobHandler> {
  return {
    "mail.send": async (s, msg, ctx) => {
      if (msg.kind !== "mail.send") return;
      if (ctx.deadLetter) {
        await recordIssue(s, { kind: "mail.send", ref: `${msg.template}/${msg.ref}`, status: "failed", attempts: msg.attempt, error: "dead-lettered" });
        return;
      }
      await sendQueuedMail(s, msg);
    },
  };
}
