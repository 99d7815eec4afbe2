/**
 * The transport of the BabyPic client (client/index.ts): a typed openapi-fetch
 * client over the Worker's /v1/openapi.json types that adds the bearer token
 * and retries 429 and 503 after `Retry-After` (RFC 9110 §10.2.3), and the
 * error type. Kept apart from the upload helpers so pages that only read
 * (the SPA's public pages) do not ship the HPKE code.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../web/src/lib/api/schema.d.ts";

export type { paths };
export type Schemas = components["schemas"];
export type Generation = Schemas["Generation"];
export type Photo = Schemas["Photo"];
export type Me = Schemas["Me"];
export type CreateGenerationInput = Schemas["CreateGeneration"];
export type PhotoType = Photo["contentType"];

export interface Problem {
  type?: string;
  status: number;
  code: string;
  title: string;
  detail?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
}

/** An answer that was not a success; `problem` is the RFC 9457 body when the API sent one. */
export class BabyPicError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  constructor(status: number, problem: Problem | null, fallback?: string) {
    super(problem ? `${problem.title}${problem.detail ? `: ${problem.detail}` : ""}` : (fallback ?? `The API answered ${status}.`));
    this.name = "BabyPicError";
    this.status = status;
    this.problem = problem;
  }
  get code(): string {
    return this.problem?.code ?? (this.status >= 500 ? "internal" : "bad_request");
  }
}

export function asProblem(value: unknown): Problem | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  return typeof v["code"] === "string" && typeof v["title"] === "string" && typeof v["status"] === "number" ? (value as Problem) : null;
}

export interface ClientOptions {
  /** The API's origin, e.g. http://127.0.0.1:8787 or https://api.babypic.app. */
  baseUrl: string;
  /** An API key (`bp_…`) or a session token; null for public calls only. */
  token?: string | null | (() => Promise<string | null>);
  /** How many times a request is sent at most when the API answers 429 or 503 (default 4). */
  attempts?: number;
  /** Longest wait honoured from one Retry-After, in seconds (default 60). */
  maxRetryAfterSeconds?: number;
  fetch?: typeof fetch;
  /** Browsers: "omit" keeps cookies of the page's origin (e.g. the identity provider's) off API requests. */
  credentials?: "omit" | "same-origin" | "include";
  /** For tests: how to wait. */
  sleep?: (ms: number) => Promise<void>;
}

export interface Transport {
  api: Client<paths>;
  baseUrl: string;
  /** fetch with the token and the retry, for requests outside the typed operations (uploads, downloads). */
  send(input: Request): Promise<Response>;
  sleep(ms: number): Promise<void>;
  attempts: number;
}

export function createTransport(opts: ClientOptions): Transport {
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");
  const baseFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const attempts = Math.max(1, opts.attempts ?? 4);
  const maxWait = opts.maxRetryAfterSeconds ?? 60;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const tokenOf = async (): Promise<string | null> => (typeof opts.token === "function" ? opts.token() : (opts.token ?? null));

  /** The request is cloned for each try so its body can be sent again. */
  const send = async (input: Request): Promise<Response> => {
    const token = await tokenOf();
    for (let attempt = 1; ; attempt++) {
      const request = opts.credentials ? new Request(input.clone(), { credentials: opts.credentials } as RequestInit) : input.clone();
      if (token && !request.headers.has("authorization")) request.headers.set("authorization", `Bearer ${token}`);
      const res = await baseFetch(request);
      if ((res.status !== 429 && res.status !== 503) || attempt >= attempts) return res;
      const seconds = Number(res.headers.get("retry-after") ?? "1");
      await res.body?.cancel();
      await sleep(Math.min(Number.isFinite(seconds) && seconds >= 0 ? seconds : 1, maxWait) * 1000);
    }
  };

  return { api: createClient<paths>({ baseUrl, fetch: send }), baseUrl, send, sleep, attempts };
}

/** The data of an openapi-fetch result, or a BabyPicError with the problem. */
export function dataOf<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) throw new BabyPicError(result.response.status, asProblem(result.error));
  return result.data;
}
