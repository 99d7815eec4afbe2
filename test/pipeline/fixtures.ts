/** Shared set-up for the pipeline suites: parents in encrypted storage, requests, waiting on the queue. */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, beforeEach, expect } from "vitest";
import { generations, ledger } from "../../worker/db/schema";
import type { JobMessage } from "../../worker/queue/messages";
import { createGeneration, type CreateGenerationInput, type GenerationRow } from "../../worker/services/generation";
import { generationHandlers } from "../../worker/services/generation-jobs";
import type { Services } from "../../worker/services";
import { putObject } from "../../worker/services/storage";
import { giveConsent } from "../../worker/services/consent";
import { appendLedger } from "../../worker/services/credits";
import { api, services, signIn } from "../helpers";
import { FakeFal, makeJpeg } from "./fake-fal";

/** Signs the local user in and records consent, as the SPA does before the first upload. */
export async function consentingUser(user: string): Promise<string> {
  const userId = await signIn(user);
  await giveConsent(services(), userId, { type: "user", id: userId }, { requestId: null, ipPrefix: null, userAgent: null });
  return userId;
}

/** Stores a parent photo for `userId` the way intake does (encrypted, kind "photo"). */
export async function storePhoto(userId: string, seed = 1): Promise<string> {
  const bytes = makeJpeg(300, 300, seed);
  const row = await putObject(services(), { userId, kind: "photo", contentType: "image/jpeg", bytes, width: 300, height: 300 });
  return row.id;
}

export interface Parents {
  motherPhotoId: string;
  fatherPhotoId: string;
}

export async function parentsFor(userId: string): Promise<Parents> {
  return { motherPhotoId: await storePhoto(userId, 11), fatherPhotoId: await storePhoto(userId, 22) };
}

export interface PipelineSetup {
  fal: FakeFal;
  userId: string;
  parents: Parents;
}

/**
 * The start of most pipeline files: a fake Fal, a consenting user with two
 * parent photos, and `credits` added under ledger `reference` (unique per file).
 */
export async function pipelineSetup(user: string, credits: number, reference: string): Promise<PipelineSetup> {
  const fal = await new FakeFal().init();
  const userId = await consentingUser(user);
  const parents = await parentsFor(userId);
  await appendLedger(services().db, { userId, delta: credits, reason: "adjustment", reference }, Date.now());
  return { fal, userId, parents };
}

/**
 * The hooks of a pipeline file: `pipelineSetup` once before all tests (handed
 * to `ready`), then before each test the fake Fal's handlers back in place
 * (msw resets them after every test) and its mode back to "ok".
 */
export function beforePipelineTests(user: string, credits: number, reference: string, ready: (setup: PipelineSetup) => void): void {
  let fal: FakeFal | null = null;
  beforeAll(async () => {
    const setup = await pipelineSetup(user, credits, reference);
    fal = setup.fal;
    ready(setup);
  });
  beforeEach(() => {
    if (!fal) throw new Error("pipelineSetup did not finish");
    fal.use();
    fal.mode = "ok";
  });
}

export function createBody(parents: Parents, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...parents, gender: "girl", ageGroup: "newborn", resemblance: 0.7, images: 1, ...overrides };
}

export async function postGeneration(user: string, body: unknown, key: string | null = crypto.randomUUID()): Promise<Response> {
  return api("/v1/generations", {
    method: "POST",
    user,
    headers: { "content-type": "application/json", ...(key === null ? {} : { "idempotency-key": key }) },
    body: JSON.stringify(body),
  });
}

export async function row(id: string): Promise<GenerationRow> {
  const r = await services().db.select().from(generations).where(eq(generations.id, id)).get();
  if (!r) throw new Error(`no generation ${id}`);
  return r;
}

/** Waits (without timing assertions) until the generation satisfies `done`, as the queue consumer runs. */
export async function waitFor(id: string, done: (r: GenerationRow) => boolean, tries = 200): Promise<GenerationRow> {
  for (let i = 0; i < tries; i++) {
    const r = await row(id);
    if (done(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const last = await row(id);
  expect.fail(`generation ${id} never reached the expected state; last: ${last.status}/${last.stage}`);
}

export interface Sent {
  body: JobMessage;
  delaySeconds: number | undefined;
}

/** Services whose queue only records what is sent, so a test drives every step itself. */
export function drivenServices(now?: () => number): { s: Services; sent: Sent[] } {
  const sent: Sent[] = [];
  const JOBS = {
    async send(body: JobMessage, opts?: QueueSendOptions) {
      sent.push({ body, delaySeconds: opts?.delaySeconds });
    },
    async sendBatch(msgs: Iterable<MessageSendRequest<JobMessage>>) {
      for (const m of msgs) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    },
  } as unknown as Queue<JobMessage>;
  const s = services({ env: { ...env, JOBS }, ...(now ? { now } : {}) });
  return { s, sent };
}

export const testMeta = { requestId: "req_test", ipPrefix: null, userAgent: null };

/** Creates a generation through the service (as the route does), with the driven queue. */
export async function createDriven(s: Services, userId: string, parents: Parents, overrides: Partial<CreateGenerationInput> = {}): Promise<GenerationRow> {
  const input: CreateGenerationInput = { ...parents, gender: "boy", ageGroup: "child", resemblance: 0.5, images: 1, ...overrides };
  const { row: created } = await createGeneration(s, { userId, actor: { type: "user", id: userId }, input, idempotencyKey: crypto.randomUUID(), meta: testMeta });
  return created;
}

export const handlers = generationHandlers();
export const ctx = { attempts: 1, deadLetter: false };

export async function submit(s: Services, id: string): Promise<void> {
  await handlers["generation.submit"](s, { kind: "generation.submit", generationId: id }, ctx);
}
export async function poll(s: Services, id: string, attempt = 0): Promise<void> {
  await handlers["generation.poll"](s, { kind: "generation.poll", generationId: id, attempt }, ctx);
}

export async function ledgerFor(reference: string): Promise<string[]> {
  return (await services().db.select().from(ledger).where(eq(ledger.reference, reference)).all()).map((l) => `${l.reason}:${l.delta}`).sort();
}
