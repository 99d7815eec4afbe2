/**
 * The face check's rules (issue 20, decision 0017): what the detector in the
 * Web Worker found, judged into "send this crop" or a refusal in plain words.
 * Pure functions, no DOM: the node tests check them directly and the browser
 * tests check them through the real Create page.
 */

/** A rectangle in pixels of the photo as displayed (EXIF orientation applied). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DetectedFace {
  /** The detector's face box (tiny face detector: brows to chin, ear to ear). */
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
  /** How far the head is turned: 0 looks at the camera, 1 is a profile (from the 68 landmarks). */
  yaw: number;
  /** Edge energy of the face region at a fixed size (variance of the Laplacian / local contrast). */
  sharpness: number;
}

/** What the worker reports for one photo. */
export interface FaceReport {
  width: number;
  height: number;
  faces: DetectedFace[];
  /** The tfjs backend that ran the models ("wasm" is the only one we ship for). */
  backend: string;
  /** Milliseconds the check took inside the worker (decode at reduced size, detect, landmarks, blur measure; the first check also waits for the models, loaded while the photo decodes). */
  ms: number;
}

export type Refusal = "no_face" | "several_faces" | "too_small" | "blurry" | "turned";

export type Verdict = { ok: true; face: DetectedFace; crop: Box } | { ok: false; reason: Refusal; message: string; faces: DetectedFace[] };

/**
 * The detector sees the photo downscaled so its longest side is at most this: the tiny face detector
 * works at 512 px (its input size below) whatever it is given, so a larger input only costs pixels to copy
 * (docs/decisions/0024; every case of the photo set keeps its verdict).
 */
export const DETECT_SIDE = 512;
/** Detections under this confidence are ignored. */
export const MIN_SCORE = 0.3;
/** A face narrower than this many pixels of the original is too small for the model. */
export const MIN_FACE_PX = 80;
/** ...or narrower than this share of the photo's short side. */
export const MIN_FACE_SHARE = 0.12;
/** Below this the face region is too blurred (calibrated on test/fixtures/faces, see docs/decisions/0017). */
export const MIN_SHARPNESS = 0.008;
/** Above this the head is turned too far (0 = frontal, 1 = profile). */
export const MAX_YAW = 0.55;
/**
 * Margin around the face box, as a share of the box's larger side on each
 * side (decision 0017): the crop is a square 1 + 2 × CROP_MARGIN times the
 * face box, so hair, ears, chin and a little neck are in, as identity
 * encoders expect (aligned crops about twice the face size).
 */
export const CROP_MARGIN = 0.6;
/** The API refuses images under 256 px on a side (worker/services/image.ts). */
export const MIN_CROP_SIDE = 256;

const plainCount = (n: number) => (n === 2 ? "two" : n === 3 ? "three" : n === 4 ? "four" : String(n));

export function refusalMessage(reason: Refusal, count = 0): string {
  switch (reason) {
    case "no_face":
      return "We couldn't find a clear face: try a sharper photo, facing the camera.";
    case "several_faces":
      return `We found ${plainCount(count)} faces: choose a photo of one person, or crop it to the face to use below.`;
    case "too_small":
      return "The face is too small in this photo: choose one where the face is larger, or taken closer.";
    case "blurry":
      return "The face is blurred: choose a sharper photo, taken in good light and held steady.";
    case "turned":
      return "The head is turned away: choose a photo where the person looks at the camera.";
  }
}

/** The first rule one face breaks, or null when it is fine. */
export function faceProblem(face: DetectedFace, width: number, height: number): Exclude<Refusal, "no_face" | "several_faces"> | null {
  const size = Math.max(face.box.width, face.box.height);
  if (size < MIN_FACE_PX || size < MIN_FACE_SHARE * Math.min(width, height)) return "too_small";
  if (face.yaw > MAX_YAW) return "turned";
  if (face.sharpness < MIN_SHARPNESS) return "blurry";
  return null;
}

/** Judges the whole photo: exactly one face, and that face passes every rule. */
export function judge(report: Pick<FaceReport, "width" | "height" | "faces">): Verdict {
  const faces = report.faces.filter((f) => f.score >= MIN_SCORE);
  if (faces.length === 0) return { ok: false, reason: "no_face", message: refusalMessage("no_face"), faces };
  if (faces.length > 1) return { ok: false, reason: "several_faces", message: refusalMessage("several_faces", faces.length), faces };
  const face = faces[0] as DetectedFace;
  return judgeOne(face, report.width, report.height, faces);
}

/** Judges the face the person chose among several (the crop tool). */
export function judgeOne(face: DetectedFace, width: number, height: number, faces: DetectedFace[] = [face]): Verdict {
  const problem = faceProblem(face, width, height);
  if (problem) return { ok: false, reason: problem, message: refusalMessage(problem), faces };
  return { ok: true, face, crop: cropAround(face.box, width, height) };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The region that is sent: a square around the face box, CROP_MARGIN of the
 * box's larger side on each side, at least MIN_CROP_SIDE where the photo is
 * that large, moved (not shrunk) to stay inside the photo, shrunk only when
 * the photo itself is smaller.
 */
export function cropAround(box: Box, width: number, height: number): Box {
  const size = Math.max(box.width, box.height);
  let side = Math.max(Math.round(size * (1 + 2 * CROP_MARGIN)), MIN_CROP_SIDE);
  side = Math.min(side, width, height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const x = Math.round(clamp(cx - side / 2, 0, width - side));
  const y = Math.round(clamp(cy - side / 2, 0, height - side));
  return { x, y, width: side, height: side };
}
