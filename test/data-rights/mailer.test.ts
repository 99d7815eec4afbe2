/** The mail interface: the local outbox without a provider, Resend with one, and the config rule tying them. */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { outbox } from "../../worker/db/schema";
import { ConfigSchema } from "../../worker/env";
import { createMailer, MailError, RESEND_API_URL } from "../../worker/services/mailer";
import { services } from "../helpers";
import { network } from "../network";

const msg = { to: "dev@example.test", subject: "Hello", text: "Body", idempotencyKey: "k-1" };

describe("mailer: happy", () => {
  it("without a provider, mail goes to the outbox a developer can read", async () => {
    const mailer = createMailer(services());
    expect(mailer.kind).toBe("outbox");
    await mailer.send(msg);
    const rows = await services().db.select().from(outbox).where(eq(outbox.recipient, "dev@example.test")).all();
    expect(rows.map((r) => [r.subject, r.body])).toEqual([["Hello", "Body"]]);
  });

  it("with a provider, mail is posted to Resend and nothing is stored", async () => {
    let got: unknown = null;
    network.use(
      http.post(RESEND_API_URL, async ({ request }) => {
        got = await request.json();
        return HttpResponse.json({ id: "email_2" });
      }),
    );
    const base = services();
    const mailer = createMailer(services({ config: { ...base.config, MAIL_API_KEY: "re_x", MAIL_FROM: "BabyPic <no-reply@babypic.test>" } }));
    expect(mailer.kind).toBe("resend");
    await mailer.send({ ...msg, to: "provider@example.test" });
    expect(got).toEqual({ from: "BabyPic <no-reply@babypic.test>", to: ["provider@example.test"], subject: "Hello", text: "Body" });
    expect(await services().db.select().from(outbox).where(eq(outbox.recipient, "provider@example.test")).all()).toEqual([]);
  });
});

describe("mailer: errors", () => {
  it("a provider error surfaces as MailError (so the deletion stage is retried)", async () => {
    network.use(http.post(RESEND_API_URL, () => HttpResponse.json({ message: "nope" }, { status: 422 })));
    const base = services();
    const mailer = createMailer(services({ config: { ...base.config, MAIL_API_KEY: "re_x", MAIL_FROM: "a@b.test" } }));
    await expect(mailer.send(msg)).rejects.toBeInstanceOf(MailError);
  });

  it("the config check refuses a mail key without a sender", () => {
    const parsed = ConfigSchema.safeParse({ ...env, MAIL_API_KEY: "re_x", MAIL_FROM: undefined });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("MAIL_FROM");
    expect(ConfigSchema.safeParse({ ...env, MAIL_API_KEY: "re_x", MAIL_FROM: "a@b.test" }).success).toBe(true);
  });
});
