/**
 * Browser-side photo preparation (docs/architecture.md, issue 3 §2): check the file
 * before any work, decode it with its EXIF orientation applied, and re-encode
 * it through a canvas to a JPEG whose longest side is at most 2048 px.
 *
 * Re-encoding is what protects the user: the canvas holds pixels only, so the
 * new file carries no EXIF/GPS, XMP, maker notes or anything appended after
 * the image data (polyglots). The server strips metadata again because clients
 * cannot be trusted (worker/services/image.ts); this is the first layer.
 */

/** Files larger than this are refused before reading them (a 50 MP HEIC is ~25 MB). */
export const MAX_INPUT_BYTES = 30 * 1024 * 1024;
/** Longest side after preparation (docs/architecture.md). */
export const MAX_SIDE = 2048;
/** The server refuses images under 256 px on either side (worker/services/image.ts `minSide`). */
export const MIN_SIDE = 256;
/** Visually lossless for photos, about 0.5-1.5 MB at 2048 px. */
const JPEG_QUALITY = 0.9;

export type PhotoProblem = "empty" | "too_large" | "not_image" | "undecodable" | "too_small";

/** A refusal with a message written for the person choosing the file. */
export class PhotoRejected extends Error {
  readonly reason: PhotoProblem;
  constructor(reason: PhotoProblem, message: string) {
    super(message);
    this.name = "PhotoRejected";
    this.reason = reason;
  }
}

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;

type Sniffed = "jpeg" | "png" | "webp" | "gif" | "bmp" | "heif" | "avif";

/** Raster formats browsers may decode, by their magic bytes; SVG, PDF, ZIP, HTML... are none of them. */
export function sniffImage(head: Uint8Array): Sniffed | null {
  const at = (i: number) => head[i] ?? -1;
  const ascii = (from: number, text: string) => [...text].every((ch, i) => at(from + i) === ch.charCodeAt(0));
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return "jpeg";
  if (at(0) === 0x89 && ascii(1, "PNG\r\n\x1a\n")) return "png";
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "webp";
  if (ascii(0, "GIF87a") || ascii(0, "GIF89a")) return "gif";
  if (ascii(0, "BM")) return "bmp";
  // ISO BMFF (ISO/IEC 14496-12): size, "ftyp", then the major brand.
  if (ascii(4, "ftyp")) {
    if (ascii(8, "avif") || ascii(8, "avis")) return "avif";
    if (["heic", "heix", "hevc", "hevx", "mif1", "msf1"].some((brand) => ascii(8, brand))) return "heif";
  }
  return null;
}

/**
 * Cheap checks before any decoding: size, then the first bytes. Throws
 * PhotoRejected with a message for people.
 */
export async function checkPhotoFile(file: Blob): Promise<Sniffed> {
  if (file.size === 0) throw new PhotoRejected("empty", "This file is empty. Choose a photo.");
  if (file.size > MAX_INPUT_BYTES) {
    throw new PhotoRejected(
      "too_large",
      `This file is ${mb(file.size)}; photos can be up to ${mb(MAX_INPUT_BYTES)}. Choose a smaller photo.`,
    );
  }
  if (file.type !== "" && !file.type.startsWith("image/")) {
    throw new PhotoRejected("not_image", "This file is not a photo. Choose a JPEG, PNG, WebP or HEIC image.");
  }
  const kind = sniffImage(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  if (!kind) throw new PhotoRejected("not_image", "This file is not a photo we can read. Choose a JPEG, PNG, WebP or HEIC image.");
  return kind;
}

export interface PreparedPhoto {
  /** The re-encoded JPEG: what gets sealed and uploaded. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The same bytes as a Blob, for the preview (`URL.createObjectURL`). */
  blob: Blob;
  width: number;
  height: number;
  /** Size of the original after orientation, before downsizing. */
  sourceWidth: number;
  sourceHeight: number;
  sourceBytes: number;
}

/** Target size: the longest side at most `maxSide`, aspect ratio kept. */
export function fitWithin(width: number, height: number, maxSide = MAX_SIDE): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A rectangle of the photo as displayed (EXIF orientation applied), in pixels. */
export interface CropRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

/** OffscreenCanvas where available (no DOM, no layout), else a detached <canvas>. */
function makeCanvas(width: number, height: number): { ctx: Canvas2D; toJpeg: (quality: number) => Promise<Blob> } {
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d");
    if (ctx) return { ctx, toJpeg: (quality) => canvas.convertToBlob({ type: "image/jpeg", quality }) };
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("This browser cannot prepare photos (no 2D canvas).");
  return {
    ctx,
    toJpeg: (quality) =>
      new Promise((resolve, reject) => {
        canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("The browser could not encode the photo."))), "image/jpeg", quality);
      }),
  };
}

/** What preparation may do: keep only `crop`, fit within `maxSide`, encode at `quality`. */
export interface PrepareOptions {
  maxSide?: number;
  quality?: number;
  /** Only this region (displayed-photo px) is kept: the face check's crop. */
  crop?: CropRegion;
}

/**
 * Decodes `file` with its EXIF orientation applied (createImageBitmap
 * `imageOrientation: "from-image"`, HTML Living Standard §8.10) and re-encodes
 * it as a JPEG of at most MAX_SIDE px on the longest side.
 */
export async function preparePhoto(file: Blob, opts: PrepareOptions = {}): Promise<PreparedPhoto> {
  await checkPhotoFile(file);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    throw new PhotoRejected(
      "undecodable",
      "Your browser could not open this photo. Try a JPEG or PNG (on an iPhone, HEIC photos can be shared as JPEG).",
    );
  }
  try {
    return await encodePicture(bitmap, { width: bitmap.width, height: bitmap.height, bytes: file.size }, opts);
  } finally {
    bitmap.close();
  }
}

/**
 * The same from a photo already decoded, maybe at reduced size: the face
 * check's picture (docs/decisions/0024), so the crop that is sent comes from
 * the decode that was checked, with no second decode of the file. `source` is
 * the photo's full size on screen and its file size; `opts.crop` is in its px.
 */
export async function encodePicture(
  picture: ImageBitmap,
  source: { width: number; height: number; bytes: number },
  opts: PrepareOptions = {},
): Promise<PreparedPhoto> {
  const sx = picture.width / source.width;
  const sy = picture.height / source.height;
  const crop = opts.crop ?? { x: 0, y: 0, width: source.width, height: source.height };
  // One factor for the output size, so a square crop stays square whatever the decoder's rounding.
  const target = fitWithin(Math.max(1, Math.round(crop.width * sx)), Math.max(1, Math.round(crop.height * sx)), opts.maxSide ?? MAX_SIDE);
  if (Math.min(target.width, target.height) < MIN_SIDE) {
    throw new PhotoRejected(
      "too_small",
      `This photo is ${source.width} × ${source.height} px; it needs at least ${MIN_SIDE} px on each side (after fitting within ${MAX_SIDE} px). Choose a larger photo.`,
    );
  }
  const { ctx, toJpeg } = makeCanvas(target.width, target.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  // JPEG has no alpha: transparent areas become white rather than black.
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, target.width, target.height);
  ctx.drawImage(picture, crop.x * sx, crop.y * sy, crop.width * sx, crop.height * sy, 0, 0, target.width, target.height);
  const blob = await toJpeg(opts.quality ?? JPEG_QUALITY);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return {
    bytes,
    blob,
    width: target.width,
    height: target.height,
    sourceWidth: source.width,
    sourceHeight: source.height,
    sourceBytes: source.bytes,
  };
}
