/**
 * The storage the generation pipeline writes through: encrypted objects
 * (./storage.ts) and untrusted-image validation (./image.ts). createServices
 * (./index.ts) puts it on `Services.pipeline`; tests swap in their own.
 */
import { validateImage } from "./image";
import { deleteObjects, getObject, putObject } from "./storage";
import type { PipelineStorage } from "./types";

export const pipelineStorage: PipelineStorage = {
  getObject,
  putObject: (s, input) => putObject(s, input),
  deleteObjects,
  validateImage(bytes) {
    const r = validateImage(bytes);
    return r.ok
      ? { ok: true, contentType: r.value.type, width: r.value.width, height: r.value.height, bytes: r.value.bytes }
      : { ok: false, reason: r.reason };
  },
};
