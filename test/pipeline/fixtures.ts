/** Shared set-up for the pipeline suites: parents in encrypted storage, requests, waiting on the queue. */
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import { generations } from "../../worker/db/schema";
import type { GenerationRow } from "../../worker/services/generation";
import { putObject } from "../../worker/services/storage";
import { api, services } from "../helpers";
import { makeJpeg } from "./fake-fal";

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
