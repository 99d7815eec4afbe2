/** The face check's rules (web/src/features/face-check/rules.ts, issue 20, decision 0017). */
import { describe, expect, it } from "vitest";
import { CROP_MARGIN, cropAround, judge, judgeOne, MIN_CROP_SIDE, type DetectedFace } from "../../web/src/features/face-check/rules.ts";

const face = (x: number, y: number, size: number, extra: Partial<DetectedFace> = {}): DetectedFace => ({
  box: { x, y, width: size, height: size },
  score: 0.9,
  yaw: 0.1,
  sharpness: 0.1,
  ...extra,
});

describe("face check rules", () => {
  it("accepts exactly one clear, large, frontal face and crops a square with the margin around it", () => {
    const v = judge({ width: 2000, height: 1500, faces: [face(900, 500, 400)] });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const side = Math.round(400 * (1 + 2 * CROP_MARGIN));
    expect(v.crop).toEqual({ x: 1100 - side / 2, y: 700 - side / 2, width: side, height: side });
  });

  it("refuses no face, several faces (with their count), and each broken rule, in words", () => {
    expect(judge({ width: 1000, height: 1000, faces: [] })).toMatchObject({ ok: false, reason: "no_face" });
    expect(judge({ width: 1000, height: 1000, faces: [face(0, 0, 100, { score: 0.1 })] })).toMatchObject({ reason: "no_face" });
    const several = judge({ width: 2000, height: 1000, faces: [face(100, 100, 300), face(900, 100, 300), face(1500, 100, 300)] });
    expect(several).toMatchObject({ ok: false, reason: "several_faces", message: expect.stringMatching(/^We found three faces/) });
    expect(judge({ width: 1000, height: 1000, faces: [face(0, 0, 79)] })).toMatchObject({ reason: "too_small" });
    expect(judge({ width: 3000, height: 2000, faces: [face(0, 0, 230)] })).toMatchObject({ reason: "too_small" }); // under 12 % of 2000
    expect(judge({ width: 3000, height: 2000, faces: [face(0, 0, 250)] })).toMatchObject({ ok: true });
    expect(judge({ width: 1000, height: 1000, faces: [face(0, 0, 400, { yaw: 0.8 })] })).toMatchObject({ reason: "turned" });
    expect(judge({ width: 1000, height: 1000, faces: [face(0, 0, 400, { sharpness: 0.001 })] })).toMatchObject({ reason: "blurry" });
  });

  it("the crop tool judges only the chosen face", () => {
    expect(judgeOne(face(100, 100, 300), 2000, 1000).ok).toBe(true);
    expect(judgeOne(face(100, 100, 300, { yaw: 0.9 }), 2000, 1000)).toMatchObject({ ok: false, reason: "turned" });
  });

  it("the crop stays inside the photo, is at least 256 px where the photo allows, and never the whole of a large photo", () => {
    for (const [w, h, f] of [
      [4000, 3000, face(3900, 2900, 100)],
      [800, 600, face(0, 0, 90)],
      [300, 260, face(100, 100, 90)],
      [4000, 3000, face(1000, 1000, 500)],
    ] as const) {
      const c = cropAround(f.box, w, h);
      expect(c.x).toBeGreaterThanOrEqual(0);
      expect(c.y).toBeGreaterThanOrEqual(0);
      expect(c.x + c.width).toBeLessThanOrEqual(w);
      expect(c.y + c.height).toBeLessThanOrEqual(h);
      expect(c.width).toBe(c.height);
      expect(c.width).toBeGreaterThanOrEqual(Math.min(MIN_CROP_SIDE, w, h));
    }
    expect(cropAround(face(1000, 1000, 500).box, 4000, 3000).width).toBe(1100);
  });
});
