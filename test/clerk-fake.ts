/**
 * A fake of Clerk's Backend API (https://api.clerk.com/v1) as msw handlers,
 * answering with the shapes Clerk documents: the User object
 * (`primary_email_address_id` + `email_addresses[]` with `verification` and
 * `linked_to`), the deleted-object answer, and Clerk's error envelope
 * (`{errors: [{message, long_message, code}], clerk_trace_id}`) for 404 and
 * 429 (with `Retry-After`).
 */
import { http, HttpResponse } from "msw";
import { network } from "./network";

export const CLERK_API = "https://api.clerk.com/v1";

export interface FakeClerkUser {
  id: string;
  /** The first is primary unless `primary` names another. */
  emails: string[];
  primary?: string;
}

/** A User object as `GET /v1/users/{user_id}` returns it. */
export function clerkUserJson(u: FakeClerkUser): Record<string, unknown> {
  const emailAddresses = u.emails.map((email, i) => ({
    id: `idn_${u.id}_${i}`,
    object: "email_address",
    email_address: email,
    reserved: false,
    verification: { status: "verified", strategy: "email_code", attempts: 1, expire_at: 1_700_000_000_000 },
    linked_to: [],
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
  }));
  const primaryIndex = u.primary ? u.emails.indexOf(u.primary) : 0;
  return {
    id: u.id,
    object: "user",
    username: null,
    first_name: null,
    last_name: null,
    image_url: "https://img.clerk.com/x",
    has_image: false,
    primary_email_address_id: emailAddresses[primaryIndex]?.id ?? null,
    primary_phone_number_id: null,
    primary_web3_wallet_id: null,
    password_enabled: false,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    email_addresses: emailAddresses,
    phone_numbers: [],
    web3_wallets: [],
    external_accounts: [],
    saml_accounts: [],
    public_metadata: {},
    private_metadata: {},
    unsafe_metadata: {},
    external_id: null,
    last_sign_in_at: 1_700_000_000_000,
    banned: false,
    locked: false,
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
    delete_self_enabled: true,
    create_organization_enabled: true,
    last_active_at: 1_700_000_000_000,
  };
}

const clerkError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ errors: [{ message, long_message: message, code }], clerk_trace_id: "trace_test" }, { status, headers });

export class FakeClerk {
  readonly users = new Map<string, FakeClerkUser>();
  /** Answer the next N user reads with 429 Too Many Requests. */
  rateLimited = 0;
  calls = { getUser: 0, deleteUser: 0 };
  auth: string[] = [];

  add(u: FakeClerkUser): this {
    this.users.set(u.id, u);
    return this;
  }

  use(): this {
    network.use(
      http.get(`${CLERK_API}/users/:id`, ({ params, request }) => {
        this.calls.getUser++;
        this.auth.push(request.headers.get("authorization") ?? "");
        if (this.rateLimited > 0) {
          this.rateLimited--;
          return clerkError(429, "too_many_requests", "Too many requests, please try again later.", { "retry-after": "10" });
        }
        const u = this.users.get(String(params["id"]));
        return u ? HttpResponse.json(clerkUserJson(u)) : clerkError(404, "resource_not_found", "Not found");
      }),
      http.delete(`${CLERK_API}/users/:id`, ({ params }) => {
        this.calls.deleteUser++;
        const id = String(params["id"]);
        if (!this.users.delete(id)) return clerkError(404, "resource_not_found", "Not found");
        return HttpResponse.json({ object: "user", id, slug: null, deleted: true });
      }),
    );
    return this;
  }
}
