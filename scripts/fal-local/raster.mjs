// Drawing into an RGBA pixel buffer (4 bytes a pixel, rows of width `w`),
// shared by the preview composer and its bitmap font.

/** Paints the rectangle [x0, x1) x [y0, y1) opaque `color` ([r, g, b]), clipped to the w x h buffer. */
export function fillRect(rgba, w, h, x0, y0, x1, y1, color) {
  for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(w, x1); x++) {
      const i = (y * w + x) * 4;
      rgba[i] = color[0];
      rgba[i + 1] = color[1];
      rgba[i + 2] = color[2];
      rgba[i + 3] = 255;
    }
  }
}
