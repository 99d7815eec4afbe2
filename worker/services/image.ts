/**
 * Untrusted image checks, on bytes in memory and before anything decodes them
 * (docs/architecture.md): magic bytes (JPEG, PNG and WebP only, and the declared type
 * must agree), dimensions read from the container header (JPEG SOF, PNG IHDR,
 * WebP VP8/VP8L/VP8X), and a metadata-free copy.
 *
 * Stripping is an allowlist: only the segments or chunks a decoder needs to
 * render the pixels correctly are kept; everything else (EXIF, XMP, IPTC,
 * comments, text chunks, thumbnails, vendor blocks, and any bytes after the
 * end-of-image marker, which is how JPEG+ZIP or JPEG+HTML polyglots hide) is
 * dropped. Polyglots are therefore accepted and stored without their payload.
 * One exception keeps photos upright: a JPEG's EXIF Orientation 2-8 survives
 * as a minimal APP1/EXIF segment holding that one tag and nothing else
 * (docs/storage-format.md), written over the start of the original segment,
 * so no pixel is touched; `width`/`height` are then the upright ones.
 *
 * Used on uploads and, by the generation pipeline, on model outputs.
 */
import { entropyDataEnd } from "../lib/jpeg-scan";
import type { Result } from "../lib/result";

export type ImageType = "image/jpeg" | "image/png" | "image/webp";
export const IMAGE_TYPES: readonly ImageType[] = ["image/jpeg", "image/png", "image/webp"];

export const IMAGE_LIMITS = {
  /** Decoding more than this in a 128 MB isolate (or at Fal) is a denial of service. */
  maxPixels: 40_000_000,
  /** Smaller faces are useless to the model. */
  minSide: 256,
} as const;

export type ImageRejection =
  | "empty"
  | "unsupported_type" // GIF, SVG, HTML, anything not JPEG/PNG/WebP
  | "type_mismatch" // declared type disagrees with the magic bytes
  | "truncated"
  | "malformed"
  | "animated"
  | "too_large"
  | "too_small";

export interface CleanImage {
  type: ImageType;
  /** As displayed: for EXIF Orientation 5-8 the coded width and height swapped. */
  width: number;
  height: number;
  /** EXIF Orientation (2-8) kept in the stripped JPEG; absent when the image is stored as coded (1). */
  orientation?: number;
  /** The image without metadata and without trailing bytes; `input` itself when nothing had to go. */
  bytes: Uint8Array;
  /** What was removed, for logs and tests (never the content). */
  removed: string[];
  /**
   * Only with `deferEntropyScan`: `bytes[start, end)` is JPEG entropy-coded
   * data this function did not scan. The result holds only if no marker lies
   * in that range; whoever stores `bytes` must check it as it goes
   * (`putObject`'s `entropyScan`) and, if one does, validate again without
   * deferring.
   */
  unscannedEntropy?: { start: number; end: number };
}

export type ImageResult = Result<CleanImage, ImageRejection>;

const fail = (reason: ImageRejection, detail: string): ImageResult => ({ ok: false, reason, detail });

/** Names the format from its magic bytes, including formats we refuse (for a clear message). */
export function sniffImageType(bytes: Uint8Array): ImageType | "image/gif" | "image/svg+xml" | "text" | null {
  const at = (i: number) => bytes[i] ?? -1;
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return "image/jpeg";
  if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => at(i) === b)) return "image/png";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return "image/webp";
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a") return "image/gif";
  const head = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false }).decode(bytes.subarray(0, 512)).replace(/^\uFEFF/, "").trimStart();
  if (/^<(\?xml|svg|!doctype svg)/i.test(head) && /<svg[\s>]/i.test(head)) return "image/svg+xml";
  if (head.startsWith("<")) return "text";
  return null;
}

export interface ValidateOptions {
  /**
   * Strip by compacting `bytes` itself instead of copying: the result is a
   * view of the same buffer, and `bytes` is left overwritten. Saves one copy
   * of the photo (intake owns its freshly decrypted buffer); off by default.
   */
  inPlace?: boolean;
  /**
   * For a JPEG that ends with its end-of-image marker: skip walking the
   * entropy-coded data of the first scan here and leave that check to the
   * caller, who is about to read every byte anyway (see `unscannedEntropy`;
   * docs/decisions/0007). Off by default.
   */
  deferEntropyScan?: boolean;
}

/**
 * Validates an untrusted image and returns a clean copy.
 * `declaredType`, when given, must match what the bytes are.
 */
export function validateImage(bytes: Uint8Array, declaredType?: string | null, opts: ValidateOptions = {}): ImageResult {
  if (bytes.length === 0) return fail("empty", "The image is empty.");
  const sniffed = sniffImageType(bytes);
  if (sniffed !== "image/jpeg" && sniffed !== "image/png" && sniffed !== "image/webp") {
    const what = sniffed === "image/gif" ? "a GIF" : sniffed === "image/svg+xml" ? "an SVG" : sniffed === "text" ? "text or markup" : "not a recognised image";
    return fail("unsupported_type", `The file is ${what}; only JPEG, PNG and WebP photos are accepted.`);
  }
  if (declaredType && declaredType !== sniffed) {
    return fail("type_mismatch", `The file was declared as ${declaredType} but its bytes are ${sniffed}.`);
  }
  const inPlace = opts.inPlace === true;
  const parsed = sniffed === "image/jpeg" ? parseJpeg(bytes, inPlace, opts.deferEntropyScan === true) : sniffed === "image/png" ? parsePng(bytes, inPlace) : parseWebp(bytes, inPlace);
  if (!parsed.ok) return parsed;
  const { width, height } = parsed.value;
  if (width * height > IMAGE_LIMITS.maxPixels) {
    return fail("too_large", `The image is ${width}x${height} (${(width * height / 1e6).toFixed(1)} MP); the limit is 40 MP.`);
  }
  if (Math.min(width, height) < IMAGE_LIMITS.minSide) {
    return fail("too_small", `The image is ${width}x${height}; each side must be at least ${IMAGE_LIMITS.minSide} px.`);
  }
  return parsed;
}

// ---------------------------------------------------------------- helpers

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (start + length > bytes.length) return "";
  let s = "";
  for (let i = start; i < start + length; i++) s += String.fromCharCode(bytes[i] ?? 0);
  return s;
}

function u16be(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}
function u32be(b: Uint8Array, i: number): number {
  return (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
}
function u16le(b: Uint8Array, i: number): number {
  return (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
}
function u24le(b: Uint8Array, i: number): number {
  return (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16);
}
function u32le(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0;
}

/** Byte ranges of the input to keep, in order; plus what was removed. */
class Keeper {
  private readonly ranges: [number, number][] = [];
  readonly removed: string[] = [];
  constructor(
    private readonly input: Uint8Array,
    private readonly inPlace: boolean,
  ) {}

  keep(start: number, end: number): void {
    const last = this.ranges[this.ranges.length - 1];
    if (last && last[1] === start) last[1] = end;
    else this.ranges.push([start, end]);
  }

  drop(what: string): void {
    if (!this.removed.includes(what)) this.removed.push(what);
  }

  /** How many kept bytes come before input offset `at` (its offset in the output). */
  outputOffset(at: number): number {
    let n = 0;
    for (const [s, e] of this.ranges) {
      if (s >= at) break;
      n += Math.min(e, at) - s;
    }
    return n;
  }

  /** The kept bytes; the input itself (no copy) when it is kept whole. */
  build(patch?: (out: Uint8Array) => void): Uint8Array {
    const only = this.ranges[0];
    if (this.ranges.length === 1 && only && only[0] === 0 && only[1] === this.input.length && !patch) return this.input;
    let total = 0;
    for (const [s, e] of this.ranges) total += e - s;
    const out = this.inPlace ? this.compact(total) : new Uint8Array(total);
    if (!this.inPlace) {
      let o = 0;
      for (const [s, e] of this.ranges) {
        out.set(this.input.subarray(s, e), o);
        o += e - s;
      }
    }
    patch?.(out);
    return out;
  }

  /**
   * Compacts the kept ranges inside the input, toward its start or toward the
   * end of the last range, whichever moves fewer bytes: metadata sits before
   * the pixel data, so moving the small head onto the big tail usually leaves
   * the photo's bulk where it is instead of shifting all of it.
   * Ranges ascend and never overlap; copyWithin has memmove semantics.
   */
  private compact(total: number): Uint8Array {
    const ranges = this.ranges;
    let leftMoved = 0;
    let o = 0;
    for (const [s, e] of ranges) {
      if (s !== o) leftMoved += e - s;
      o += e - s;
    }
    const end = ranges[ranges.length - 1]?.[1] ?? 0;
    let rightMoved = 0;
    o = end;
    for (let i = ranges.length - 1; i >= 0; i--) {
      const [s, e] = ranges[i] ?? [0, 0];
      o -= e - s;
      if (s !== o) rightMoved += e - s;
    }
    if (leftMoved <= rightMoved) {
      o = 0;
      for (const [s, e] of ranges) {
        if (s !== o) this.input.copyWithin(o, s, e);
        o += e - s;
      }
      return this.input.subarray(0, total);
    }
    o = end;
    for (let i = ranges.length - 1; i >= 0; i--) {
      const [s, e] = ranges[i] ?? [0, 0];
      o -= e - s;
      if (s !== o) this.input.copyWithin(o, s, e);
    }
    return this.input.subarray(end - total, end);
  }
}

// ---------------------------------------------------------------- JPEG (ITU-T T.81, JFIF, EXIF 2.32 §4.5)

/** Bytes of the minimal APP1/EXIF segment written when an orientation is kept. */
export const ORIENTATION_SEGMENT_BYTES = 36;

/**
 * The Orientation (tag 0x0112, SHORT, count 1) of IFD0 in an APP1 Exif
 * segment whose payload is b[data, end) (EXIF 2.32 §4.5.4 and §4.6.4 A);
 * null when absent or malformed. Only 1-8 are meaningful.
 */
function exifOrientation(b: Uint8Array, data: number, end: number): number | null {
  const tiff = data + 6;
  if (tiff + 8 > end) return null;
  const order = ascii(b, tiff, 2);
  if (order !== "II" && order !== "MM") return null;
  const le = order === "II";
  const u16 = (i: number) => (le ? u16le(b, i) : u16be(b, i));
  const u32 = (i: number) => (le ? u32le(b, i) : u32be(b, i));
  if (u16(tiff + 2) !== 42) return null;
  const ifd = tiff + u32(tiff + 4);
  if (ifd < tiff + 8 || ifd + 2 > end) return null;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return null;
    if (u16(entry) !== 0x0112) continue;
    if (u16(entry + 2) !== 3 || u32(entry + 4) !== 1) return null;
    const v = u16(entry + 8);
    return v >= 1 && v <= 8 ? v : null;
  }
  return null;
}

/**
 * The whole minimal segment: APP1, length, "Exif\0\0", a big-endian TIFF
 * header, IFD0 with the one Orientation entry, no next IFD.
 */
function orientationSegment(orientation: number): Uint8Array {
  return Uint8Array.of(
    0xff, 0xe1, 0x00, 0x22, // APP1, length 34
    0x45, 0x78, 0x69, 0x66, 0x00, 0x00, // "Exif\0\0"
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // "MM", 42, IFD0 at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, // Orientation, SHORT, 1, value
    0x00, 0x00, 0x00, 0x00, // no IFD1 (so no thumbnail)
  );
}

function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function parseJpeg(b: Uint8Array, inPlace: boolean, deferScan: boolean): ImageResult {
  const k = new Keeper(b, inPlace);
  k.keep(0, 2);
  let pos = 2;
  let width = 0;
  let height = 0;
  let sawScan = false;
  let frame = 0;
  /** Orientation 2-8 to keep, and the input offset of the segment it overwrites. */
  let orient: { value: number; at: number } | null = null;
  const upright = (): Pick<CleanImage, "width" | "height" | "orientation"> =>
    orient ? (orient.value >= 5 ? { width: height, height: width, orientation: orient.value } : { width, height, orientation: orient.value }) : { width, height };
  const patch = (out: Uint8Array): void => {
    if (orient) out.set(orientationSegment(orient.value), k.outputOffset(orient.at));
  };
  for (;;) {
    if (pos >= b.length) return fail("truncated", "The JPEG ends before its end-of-image marker.");
    if (b[pos] !== 0xff) return fail("malformed", "The JPEG has bytes where a marker should be.");
    while (pos < b.length && b[pos] === 0xff) pos++; // fill bytes (T.81 §B.1.1.2)
    if (pos >= b.length) return fail("truncated", "The JPEG ends before its end-of-image marker.");
    const marker = b[pos] ?? 0;
    pos++;
    if (marker === 0xd9) {
      if (!sawScan || !width) return fail("malformed", "The JPEG has no image data.");
      k.keep(pos - 2, pos);
      if (pos < b.length) k.drop("trailing-bytes");
      return { ok: true, value: { type: "image/jpeg", ...upright(), bytes: k.build(orient ? patch : undefined), removed: k.removed } };
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      k.keep(pos - 2, pos);
      continue;
    }
    if (marker === 0xd8 || marker === 0x00) return fail("malformed", "The JPEG has an invalid marker.");
    if (pos + 2 > b.length) return fail("truncated", "The JPEG is cut off inside a segment.");
    const len = u16be(b, pos);
    if (len < 2) return fail("malformed", "The JPEG has a segment with an invalid length.");
    const segStart = pos - 2;
    const segEnd = pos + len;
    if (segEnd > b.length) return fail("truncated", "The JPEG is cut off inside a segment.");
    const data = pos + 2;
    let keep = true;
    if (marker === 0xe0) {
      keep = ascii(b, data, 5) === "JFIF\0"; // JFXX extensions carry thumbnails
      if (!keep) k.drop("app0");
    } else if (marker === 0xe1) {
      const sig = ascii(b, data, 6);
      k.drop(sig === "Exif\0\0" ? "exif" : ascii(b, data, 4) === "http" ? "xmp" : "app1");
      keep = false;
      // The first EXIF segment's orientation, if not 1, is kept (rewritten) in place of the segment's first bytes.
      const value: number | null = sig === "Exif\0\0" && !orient && !width ? exifOrientation(b, data, segEnd) : null;
      if (value !== null && value !== 1 && segEnd - segStart >= ORIENTATION_SEGMENT_BYTES) {
        orient = { value, at: segStart };
        k.keep(segStart, segStart + ORIENTATION_SEGMENT_BYTES);
      }
    } else if (marker === 0xe2) {
      keep = ascii(b, data, 12) === "ICC_PROFILE\0";
      if (!keep) k.drop("app2");
    } else if (marker === 0xed) {
      k.drop("iptc");
      keep = false;
    } else if (marker === 0xee) {
      keep = ascii(b, data, 5) === "Adobe";
      if (!keep) k.drop("app14");
    } else if (marker >= 0xe3 && marker <= 0xef) {
      k.drop(`app${marker - 0xe0}`);
      keep = false;
    } else if (marker === 0xfe) {
      k.drop("comment");
      keep = false;
    } else if (isSof(marker)) {
      if (width) return fail("malformed", "The JPEG has more than one frame header.");
      if (len < 8) return fail("malformed", "The JPEG frame header is too short.");
      frame = marker;
      height = u16be(b, data + 1);
      width = u16be(b, data + 3);
      if (!width || !height) return fail("malformed", "The JPEG frame header has a zero dimension.");
    }
    if (keep) k.keep(segStart, segEnd);
    pos = segEnd;
    if (marker === 0xda) {
      if (!width) return fail("malformed", "The JPEG has image data before its frame header.");
      sawScan = true;
      const eoi = b.length - 2;
      // Only sequential frames (SOF0/SOF1), whose one scan usually runs to EOI; a progressive photo has
      // several scans, so deferring would only find the next one late and redo the walk.
      const sequential = frame === 0xc0 || frame === 0xc1;
      if (deferScan && sequential && eoi > pos && b[eoi] === 0xff && b[eoi + 1] === 0xd9) {
        // If no marker lies in [pos, eoi), the full walk would end exactly here: entropy data, then EOI, nothing after.
        k.keep(pos, b.length);
        const start = k.outputOffset(pos);
        const bytes = k.build(orient ? patch : undefined);
        return { ok: true, value: { type: "image/jpeg", ...upright(), bytes, removed: k.removed, unscannedEntropy: { start, end: bytes.length - 2 } } };
      }
      const end = entropyDataEnd(b, pos);
      if (end < 0) return fail("truncated", "The JPEG ends inside its image data.");
      k.keep(pos, end);
      pos = end;
    }
  }
}

// ---------------------------------------------------------------- PNG (ISO/IEC 15948, PNG 3rd ed.)

/** Chunks kept besides IHDR/PLTE/IDAT/IEND: the ones that change how pixels render. */
const PNG_KEEP = new Set(["tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "cICP", "mDCV", "cLLI"]);
const PNG_CRITICAL = new Set(["IHDR", "PLTE", "IDAT", "IEND"]);

let crcTable: Uint32Array | null = null;
function crc32(b: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (t[(c ^ (b[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function parsePng(b: Uint8Array, inPlace: boolean): ImageResult {
  const k = new Keeper(b, inPlace);
  k.keep(0, 8);
  let pos = 8;
  let width = 0;
  let height = 0;
  let idat = 0;
  let first = true;
  for (;;) {
    if (pos + 12 > b.length) return fail("truncated", "The PNG ends before its IEND chunk.");
    const len = u32be(b, pos);
    const type = ascii(b, pos + 4, 4);
    if (len > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type)) return fail("malformed", "The PNG has an invalid chunk.");
    const end = pos + 12 + len;
    if (end > b.length) return fail("truncated", "The PNG is cut off inside a chunk.");
    if (crc32(b, pos + 4, pos + 8 + len) !== u32be(b, pos + 8 + len)) return fail("malformed", `The PNG ${type} chunk fails its CRC.`);
    if (first && type !== "IHDR") return fail("malformed", "The PNG does not start with IHDR.");
    if (type === "IHDR") {
      if (!first || len !== 13) return fail("malformed", "The PNG header chunk is invalid.");
      width = u32be(b, pos + 8);
      height = u32be(b, pos + 12);
      if (!width || !height) return fail("malformed", "The PNG header has a zero dimension.");
    }
    first = false;
    if (type === "acTL") return fail("animated", "Animated PNGs are not accepted; upload a still photo.");
    if (type === "IDAT") idat++;
    if (PNG_CRITICAL.has(type) || PNG_KEEP.has(type)) k.keep(pos, end);
    else if (type.charCodeAt(0) < 0x61) return fail("malformed", `The PNG has an unknown critical chunk ${type}.`);
    else k.drop(type === "tEXt" || type === "iTXt" || type === "zTXt" ? "text" : type === "eXIf" ? "exif" : type);
    pos = end;
    if (type === "IEND") {
      if (!idat) return fail("malformed", "The PNG has no image data.");
      if (pos < b.length) k.drop("trailing-bytes");
      return { ok: true, value: { type: "image/png", width, height, bytes: k.build(), removed: k.removed } };
    }
  }
}

// ---------------------------------------------------------------- WebP (RFC 9649)

const VP8X_EXIF = 0x08;
const VP8X_XMP = 0x04;
const VP8X_ANIMATION = 0x02;

function vp8Size(b: Uint8Array, data: number, len: number): { width: number; height: number } | null {
  // RFC 6386 §9.1: 3-byte frame tag, start code 9D 01 2A, 14-bit sizes.
  if (len < 10 || b[data + 3] !== 0x9d || b[data + 4] !== 0x01 || b[data + 5] !== 0x2a) return null;
  if (((b[data] ?? 1) & 1) !== 0) return null; // not a key frame
  return { width: u16le(b, data + 6) & 0x3fff, height: u16le(b, data + 8) & 0x3fff };
}

function vp8lSize(b: Uint8Array, data: number, len: number): { width: number; height: number } | null {
  // RFC 9649 §3.2: signature 0x2F, then 14-bit width-1 and height-1.
  if (len < 5 || b[data] !== 0x2f) return null;
  const bits = u32le(b, data + 1);
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
}

function parseWebp(b: Uint8Array, inPlace: boolean): ImageResult {
  const riffEnd = 8 + u32le(b, 4);
  if (riffEnd > b.length) return fail("truncated", "The WebP is shorter than its RIFF header says.");
  if (riffEnd < 12 + 8) return fail("malformed", "The WebP has no chunks.");
  const k = new Keeper(b, inPlace);
  k.keep(0, 12);
  let pos = 12;
  let canvas: { width: number; height: number } | null = null;
  let frame: { width: number; height: number } | null = null;
  let vp8xAt = -1;
  let extended = false;
  while (pos < riffEnd) {
    if (pos + 8 > riffEnd) return fail("truncated", "The WebP is cut off inside a chunk header.");
    const fourcc = ascii(b, pos, 4);
    const len = u32le(b, pos + 4);
    const end = pos + 8 + len + (len & 1);
    if (pos + 8 + len > riffEnd) return fail("truncated", "The WebP is cut off inside a chunk.");
    const data = pos + 8;
    const isFirst = pos === 12;
    if (isFirst && fourcc !== "VP8 " && fourcc !== "VP8L" && fourcc !== "VP8X") return fail("malformed", "The WebP has no image chunk first.");
    if (fourcc === "VP8X") {
      if (!isFirst || len < 10) return fail("malformed", "The WebP extended header is invalid.");
      if ((b[data] ?? 0) & VP8X_ANIMATION) return fail("animated", "Animated WebPs are not accepted; upload a still photo.");
      canvas = { width: u24le(b, data + 4) + 1, height: u24le(b, data + 7) + 1 };
      vp8xAt = data;
      extended = true;
      k.keep(pos, Math.min(end, riffEnd));
    } else if (fourcc === "VP8 " || fourcc === "VP8L") {
      if (frame) {
        k.drop("extra-frame");
      } else {
        frame = fourcc === "VP8 " ? vp8Size(b, data, len) : vp8lSize(b, data, len);
        if (!frame) return fail("malformed", "The WebP bitstream header is invalid.");
        k.keep(pos, Math.min(end, riffEnd));
      }
    } else if (extended && (fourcc === "ICCP" || fourcc === "ALPH")) {
      k.keep(pos, Math.min(end, riffEnd));
    } else if (fourcc === "ANIM" || fourcc === "ANMF") {
      return fail("animated", "Animated WebPs are not accepted; upload a still photo.");
    } else {
      k.drop(fourcc === "EXIF" ? "exif" : fourcc === "XMP " ? "xmp" : fourcc.trim() || "chunk");
    }
    pos = end;
  }
  if (!frame) return fail("malformed", "The WebP has no image data.");
  if (canvas && (canvas.width !== frame.width || canvas.height !== frame.height)) {
    return fail("malformed", "The WebP canvas and frame sizes disagree.");
  }
  if (riffEnd < b.length) k.drop("trailing-bytes");
  const metadataFlags = vp8xAt >= 0 ? (b[vp8xAt] ?? 0) & (VP8X_EXIF | VP8X_XMP) : 0;
  const needsPatch = k.removed.length > 0 || metadataFlags !== 0;
  const vp8xOffset = vp8xAt; // the VP8X chunk sits right after the 12-byte RIFF header in the output too
  const out = needsPatch
    ? k.build((o) => {
        new DataView(o.buffer, o.byteOffset, o.byteLength).setUint32(4, o.length - 8, true);
        if (vp8xOffset >= 0) o[vp8xOffset] = (o[vp8xOffset] ?? 0) & ~(VP8X_EXIF | VP8X_XMP);
      })
    : k.build();
  if (metadataFlags) k.drop("vp8x-metadata-flags");
  return { ok: true, value: { type: "image/webp", width: frame.width, height: frame.height, bytes: out, removed: k.removed } };
}
