/**
 * Where a mail goes. Clerk's default session token has no email claim, so
 * with Clerk the address is read from Clerk's Backend API at send time
 * (`GET /v1/users/{id}`: the entry of `email_addresses` whose id is
 * `primary_email_address_id`). The `users.email` column is the fallback:
 * the local identity provider puts the address in its tokens, and it is all
 * we have once Clerk has deleted the identity.
 * A rate limit or an outage at Clerk throws (the caller retries with backoff).
 */
import { createClerkClient } from "@clerk/backend";
import { isClerkAPIResponseError } from "@clerk/backend/errors";
import { eq } from "drizzle-orm";
import { users } from "../db/schema";
import { openUserFields, subjectOf } from "./users";
import type { Services } from "./types";

export type Recipient = { ok: true; address: string; source: "clerk" | "stored" } | { ok: false; reason: "no_account" | "no_address" };

/** A Clerk failure a later attempt may not see (429, 5xx, network). */
export class RecipientLookupError extends Error {
  constructor(readonly status: number | null) {
    super(`Clerk user lookup failed${status ? ` with HTTP ${status}` : ""}`);
    this.name = "RecipientLookupError";
  }
}

/**
 * `knownSubject`: the identity provider subject when the caller holds it (an
 * account deletion, after the key shred made `users.subject` unreadable).
 * `knownAddress`: the stored address when the caller already opened it (an
 * account deletion reads it before shredding the key that seals it).
 */
export async function resolveRecipient(s: Services, userId: string, knownAddress: string | null = null, knownSubject: string | null = null): Promise<Recipient> {
  const row = await s.db
    .select({ id: users.id, externalId: users.externalId, subject: users.subject, email: users.email, consentVersion: users.consentVersion })
    .from(users)
    .where(eq(users.id, userId))
    .get();
  if (!row) return { ok: false, reason: "no_account" };
  const secretKey = s.config.CLERK_SECRET_KEY;
  // The subject is sealed under the DEK (decision 0022): an account deletion passes the one it holds.
  const subject = knownSubject ?? (await subjectOf(s, row).catch(() => null));
  if (secretKey && subject) {
    try {
      const user = await createClerkClient({ secretKey }).users.getUser(subject);
      const address = user.primaryEmailAddress?.emailAddress ?? user.emailAddresses[0]?.emailAddress;
      if (address) return { ok: true, address, source: "clerk" };
    } catch (err) {
      // 404: Clerk no longer has the identity (e.g. a user.deleted webhook started this); fall back.
      if (!(isClerkAPIResponseError(err) && err.status === 404)) {
        throw new RecipientLookupError(isClerkAPIResponseError(err) ? err.status : null);
      }
    }
  }
  // The column is sealed under the user's DEK (docs/storage-format.md §6); after a key shred it opens to null.
  const stored = knownAddress ?? (await openUserFields(s, row).catch(() => ({ email: null }))).email;
  return stored ? { ok: true, address: stored, source: "stored" } : { ok: false, reason: "no_address" };
}
