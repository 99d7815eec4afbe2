/**
 * Runs in headless Chromium (bench/face-check/run.mjs builds it with Vite and
 * serves it with the SPA's production CSP). Uses the SPA's own face check,
 * web/src/features/face-check (the Web Worker, its models and the rules).
 */
import { findFaces, warmUpFaceCheck } from "../../web/src/features/face-check/check.ts";
import { judge, type FaceReport } from "../../web/src/features/face-check/rules.ts";
import { encodePicture } from "../../web/src/lib/photo-prepare.ts";

declare global {
  interface Window {
    faceBench: {
      warmUp: () => Promise<{ backend: string; loadMs: number; wallMs: number }>;
      /** The check as the Create page runs it; `cropMs` adds cutting and encoding the crop that is sent (when ok). */
      check: (bytes: number[] | Uint8Array) => Promise<{ report: FaceReport; verdict: string; wallMs: number; cropMs: number | null }>;
    };
  }
}

window.faceBench = {
  warmUp: async () => {
    const t0 = performance.now();
    const r = await warmUpFaceCheck();
    return { ...r, wallMs: performance.now() - t0 };
  },
  check: async (bytes) => {
    const blob = new Blob([new Uint8Array(bytes)], { type: "image/jpeg" });
    const t0 = performance.now();
    const { report, picture } = await findFaces(blob);
    const wallMs = performance.now() - t0;
    const v = judge(report);
    try {
      if (!v.ok) return { report, verdict: v.reason, wallMs, cropMs: null };
      await encodePicture(picture, { ...report, bytes: blob.size }, { crop: v.crop });
      return { report, verdict: "ok", wallMs, cropMs: performance.now() - t0 };
    } finally {
      picture.close();
    }
  },
};
