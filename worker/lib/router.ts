import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";

/**
 * Every resource router is made here so that zod validation failures become
 * one `validation_failed` problem listing the offending fields.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError("validation_failed", `The ${result.target} has invalid fields.`, {
          errors: result.error.issues.map((i) => ({
            field: i.path.length ? i.path.join(".") : result.target,
            message: i.message,
          })),
        });
      }
    },
  });
}
