/**
 * `DELETE /v1/generations/{id}`: erasure of one generation (GDPR Art. 17).
 * Its own small router so the pipeline's routes file stays the pipeline's;
 * the photo counterpart is `DELETE /v1/photos/{id}` in routes/photos.ts, and
 * both go through services/deletion.ts and answer with a deletion receipt.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { deleteOwned } from "../lib/owned";
import { createRouter } from "../lib/router";
import { authenticated } from "../middleware/auth";
import { authErrors, badRequest, notFound } from "../schemas/common";
import { deleteGeneration } from "../services/deletion";
import { ReceiptSchema } from "../schemas/deletion";
import { idPattern } from "../lib/ids";

const GenerationParams = z.object({
  id: z
    .string()
    .regex(idPattern("gen"), "must be a generation id (gen_...)")
    .openapi({ param: { name: "id", in: "path" }, example: "gen_7c1e0d2b9a8f4e3d2c1b0a9f8e7d6c5b" }),
});

export const deletionRoutes = createRouter().openapi(
  createRoute({
    method: "delete",
    path: "/generations/{id}",
    tags: ["generations"],
    operationId: "deleteGeneration",
    summary: "Delete a generation and its images",
    description:
      "Removes the generated images, the generation and any export holding them; links to them stop working at once. A generation still " +
      "running is canceled and refunded first. Returns a deletion receipt (counts and time; ids only as hashes). Parent photos keep their " +
      "own retention (see `DELETE /v1/photos/{id}`). Needs scope `generations:write` with an API key.",
    ...authenticated({ scope: "generations:write", limit: "write" }),
    request: { params: GenerationParams },
    responses: {
      200: { description: "Deleted; the receipt", content: { "application/json": { schema: ReceiptSchema } } },
      ...badRequest,
      ...authErrors,
      ...notFound,
    },
  }),
  async (c) => c.json(await deleteOwned(c, "generations", c.req.valid("param").id, deleteGeneration), 200),
);
