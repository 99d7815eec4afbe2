// Small node:http helpers shared by the local fakes (scripts/creem-local.mjs,
// scripts/fal-local.mjs).

/**
 * The whole request body as a Buffer. Rejects with an Error carrying
 * `status: 413` (RFC 9110 §15.5.14 Content Too Large) once more than
 * `maxBody` bytes arrive, and stops reading.
 */
export function readBody(req, maxBody) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > maxBody) {
        reject(Object.assign(new Error("body too large"), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
