import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { users } from "../db/schema";
import { AppError } from "../errors";
import { createRouter } from "../lib/router";
import { requireAuth } from "../middleware/auth";
import { KeepDays, keepPhotosDaysOf } from "./me-settings";
import { balanceQuery, openUserFields } from "../services/users";
import { userDataKey } from "../services/crypto/keys";
import { authErrors, bearerSecurity } from "../schemas/common";

export const MeSchema = z
  .object({
    id: z.string().openapi({ example: "usr_9f86d081884c7d659a2feaa0c55ad015" }),
    email: z.string().nullable(),
    createdAt: z.string(),
    credits: z.number().int(),
    generationCost: z.number().int().openapi({ description: "Credits one generation reserves (any number of images), so a client can tell before trying." }),
    keepPhotosDays: KeepDays,
    consent: z.object({ version: z.string(), at: z.string() }).nullable(),
    supportAccessUntil: z.string().nullable(),
    isAdmin: z.boolean(),
    via: z.enum(["session", "api_key"]),
  })
  .openapi("Me");

export const meRoutes = createRouter();

meRoutes.use("/me", requireAuth({ scope: "account:read", rateLimit: "read" }));
meRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    tags: ["account"],
    summary: "The signed-in user (created on first use)",
    security: bearerSecurity,
    responses: { 200: { description: "The user", content: { "application/json": { schema: MeSchema } } }, ...authErrors },
  }),
  async (c) => {
    const s = c.get("services");
    const auth = c.get("auth");
    // One D1 round trip for the row and the balance, while the user's data key
    // (for the sealed email and consent version) loads from R2 alongside.
    const dataKey = userDataKey(s, auth.userId, { create: false });
    const [[row], credits] = await Promise.all([s.db.batch([s.db.select().from(users).where(eq(users.id, auth.userId)), balanceQuery(s.db, auth.userId)]), dataKey]).then(
      ([[rows, balance]]) => [rows, Number(balance[0]?.total ?? 0)] as const,
    );
    if (!row) throw new AppError("not_found");
    const user = await openUserFields(s, row);
    return c.json(
      {
        id: user.id,
        email: user.email,
        createdAt: new Date(user.createdAt).toISOString(),
        credits,
        generationCost: s.config.GENERATION_COST,
        keepPhotosDays: keepPhotosDaysOf(user.keepPhotosDays),
        consent: user.consentVersion && user.consentAt ? { version: user.consentVersion, at: new Date(user.consentAt).toISOString() } : null,
        supportAccessUntil: user.supportAccessUntil ? new Date(user.supportAccessUntil).toISOString() : null,
        isAdmin: auth.isAdmin,
        via: auth.via,
      },
      200,
    );
  },
);
