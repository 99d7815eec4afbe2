/**
 * Transactional mail behind one small interface. With MAIL_API_KEY and
 * MAIL_FROM configured, mail goes to Resend's HTTP API; otherwise it lands in
 * the D1 `outbox` table, where a developer can read it locally.
 *
 * The outbox holds a recipient address, which is personal data, so it keeps
 * rows only for RETENTION.outboxTtlMs (the retention sweep purges them) and
 * message bodies never carry internal ids or anything beyond what the mail
 * must say (GDPR Art. 5(1)(c) and (e)). See docs/decisions/0006-data-rights.md.
 */
import { lt } from "drizzle-orm";
import { outbox } from "../db/schema";
import { newId } from "../lib/ids";
import type { Mailer, Services } from "./types";

export type { MailMessage, Mailer } from "./types";

export const RESEND_API_URL = "https://api.resend.com/emails";

export class MailError extends Error {
  constructor(readonly status: number) {
    super(`mail provider answered ${status}`);
    this.name = "MailError";
  }
}

function resendMailer(apiKey: string, from: string): Mailer {
  return {
    kind: "resend",
    async send(msg) {
      const res = await fetch(RESEND_API_URL, {
        method: "POST",
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": "application/json",
          "idempotency-key": msg.idempotencyKey,
        },
        body: JSON.stringify({ from, to: [msg.to], subject: msg.subject, text: msg.text }),
      });
      // Drain the body so the connection is released; its content is not needed.
      await res.arrayBuffer();
      if (!res.ok) throw new MailError(res.status);
    },
  };
}

type MailerDeps = Pick<Services, "config" | "db" | "now">;

function outboxMailer(s: MailerDeps): Mailer {
  return {
    kind: "outbox",
    async send(msg) {
      await s.db.insert(outbox).values({ id: newId("obx"), recipient: msg.to, subject: msg.subject, body: msg.text, createdAt: s.now() });
    },
  };
}

/** Called by createServices (./index.ts); everything else uses `s.mailer`. */
export function createMailer(s: MailerDeps): Mailer {
  const key = s.config.MAIL_API_KEY;
  const from = s.config.MAIL_FROM;
  return key && from ? resendMailer(key, from) : outboxMailer(s);
}

/** Purges outbox rows older than the TTL; returns how many went. */
export async function purgeOutbox(s: Services, ttlMs: number): Promise<number> {
  const res = await s.db.delete(outbox).where(lt(outbox.createdAt, s.now() - ttlMs)).run();
  return res.meta.changes ?? 0;
}
