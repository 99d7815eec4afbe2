/**
 * The page's side of the face check (issue 20): one Web Worker per tab,
 * started on the Create page's first photo (or when the page opens, to warm
 * it), asked one photo at a time. The photo goes to the worker as a Blob in
 * the same tab; nothing is sent anywhere.
 */
import type { WorkerRequest, WorkerResponse } from "./face.worker";
import type { FaceReport } from "./rules";

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void }>();

/** Shown when the check itself cannot run (an old browser, a blocked model file). */
export class FaceCheckUnavailable extends Error {
  constructor(detail: string) {
    super(`The face check could not run in this browser (${detail}). Reload the page and try again, or use a recent browser.`);
    this.name = "FaceCheckUnavailable";
  }
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./face.worker.ts", import.meta.url), { type: "module", name: "face-check" });
  w.onmessage = (e: MessageEvent<WorkerResponse>) => {
    const job = waiting.get(e.data.id);
    if (!job) return;
    waiting.delete(e.data.id);
    job.resolve(e.data);
  };
  w.onerror = (e) => {
    e.preventDefault();
    for (const job of waiting.values()) job.reject(new FaceCheckUnavailable("the checker stopped"));
    waiting.clear();
    worker = null;
    w.terminate();
  };
  worker = w;
  return w;
}

function ask(request: Omit<WorkerRequest, "id"> & ({ image: Blob } | { warmup: true })): Promise<WorkerResponse> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    getWorker().postMessage({ ...request, id } as WorkerRequest);
  });
}

/** Loads the models ahead of the first photo; resolves with the backend in use. */
export async function warmUpFaceCheck(): Promise<{ backend: string; loadMs: number }> {
  const answer = await ask({ warmup: true });
  if ("error" in answer) throw new FaceCheckUnavailable(answer.error);
  if (!("ready" in answer)) throw new FaceCheckUnavailable("unexpected answer");
  return answer.ready;
}

/**
 * Finds the faces in `image` on this device. `picture` is the photo as the check decoded it (reduced, EXIF
 * orientation applied; docs/decisions/0024): cut the crop that is sent from it, then close it.
 */
export async function findFaces(image: Blob): Promise<{ report: FaceReport; picture: ImageBitmap }> {
  const answer = await ask({ image });
  if ("error" in answer) throw new FaceCheckUnavailable(answer.error);
  if (!("report" in answer)) throw new FaceCheckUnavailable("unexpected answer");
  return { report: answer.report, picture: answer.picture };
}
