// Photo fixtures for the create-flow browser tests, made at run time: small
// JPEGs (jpeg-js) with an EXIF block that rotates them (Orientation 6) and
// carries GPS coordinates and a camera make, plus a ZIP appended after the
// image (a polyglot). What the browser sends must have none of it. The picture
// is a real face from the face check's photo set, so the check lets it through.
import jpeg from "jpeg-js";
import { facePixels } from "./face-cases.mjs";

/** A real face (test/e2e/face-cases.mjs) filling the picture, so the face check passes; `hue` tells parents apart. */
function pixels(width, height, hue) {
  return facePixels(width, height, hue < 100 ? 6 : 4);
}

function u16(n) {
  return [(n >> 8) & 0xff, n & 0xff];
}
function u32(n) {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
function entry(tag, type, count, value) {
  return [...u16(tag), ...u16(type), ...u32(count), ...value];
}

/**
 * APP1 "Exif" (CIPA DC-008 / TIFF 6.0, big-endian): IFD0 with Orientation=6,
 * Make and a GPS IFD pointer; GPS IFD with latitude 52°31'N.
 */
export function exifSegment() {
  const make = Buffer.from("BabyPicTestCam\0", "latin1");
  // Layout: header(8) IFD0 @8: 2 + 3*12 + 4 = 42 -> 50; GPS IFD @50: 2 + 2*12 + 4 = 30 -> 80; rationals @80 (24) -> 104; make @104.
  const gpsIfd = 50;
  const rationals = 80;
  const makeAt = 104;
  const tiff = [
    ...[0x4d, 0x4d, 0x00, 0x2a],
    ...u32(8),
    ...u16(3),
    ...entry(0x010f, 2, make.length, u32(makeAt)),
    ...entry(0x0112, 3, 1, [...u16(6), 0, 0]),
    ...entry(0x8825, 4, 1, u32(gpsIfd)),
    ...u32(0),
    ...u16(2),
    ...entry(0x0001, 2, 2, [0x4e, 0, 0, 0]),
    ...entry(0x0002, 5, 3, u32(rationals)),
    ...u32(0),
    ...u32(52),
    ...u32(1),
    ...u32(31),
    ...u32(1),
    ...u32(0),
    ...u32(1),
    ...make,
  ];
  const body = Buffer.from([...Buffer.from("Exif\0\0", "latin1"), ...tiff]);
  return Buffer.concat([Buffer.from([0xff, 0xe1, ...u16(body.length + 2)]), body]);
}

/**
 * A JPEG stored as width x height pixels with EXIF Orientation 6, so it
 * displays as height x width; GPS and Make in EXIF; a ZIP after the EOI.
 */
export function taggedJpeg({ width = 1000, height = 800, hue = 40 } = {}) {
  // Drawn upright at its display size (height x width), stored turned 90° counter-clockwise, as a
  // phone held upright stores it; Orientation 6 tells viewers to turn it back clockwise.
  const upright = pixels(height, width, hue);
  const raw = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (x * height + (height - 1 - y)) * 4;
      raw.set(upright.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  const plain = jpeg.encode({ data: raw, width, height }, 85).data;
  const withExif = Buffer.concat([plain.subarray(0, 2), exifSegment(), plain.subarray(2)]);
  const zip = Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), Buffer.from("hidden payload after the image", "latin1")]);
  return Buffer.concat([withExif, zip]);
}

/** A plain JPEG without metadata. */
export function plainJpeg({ width = 640, height = 800, hue = 160 } = {}) {
  return Buffer.from(jpeg.encode({ data: pixels(width, height, hue), width, height }, 85).data);
}

/** Width and height from a JPEG's first SOFn segment (ITU T.81 B.2.2). */
export function jpegSize(bytes) {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1];
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8] };
    }
    i += 2 + len;
  }
  return null;
}

/** Marker ids of the segments before the scan (APP0 = 0xe0, APP1 = 0xe1, COM = 0xfe...). */
export function jpegMarkers(bytes) {
  const markers = [];
  let i = 2;
  while (i + 3 < bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    markers.push(marker);
    if (marker === 0xda) break;
    i += 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
  }
  return markers;
}
