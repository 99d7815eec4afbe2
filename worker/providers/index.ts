/** The provider the pipeline uses, built from the validated config. */
import type { Config } from "../env";
import { createFalProvider, URL_ONLY_MODELS } from "./fal";
import type { ImageProvider } from "./types";

export type { ImageProvider } from "./types";

/** Our fixed webhook URL: the same for every request, so it carries no state. */
export function falWebhookUrl(publicApiUrl: string): string {
  return `${publicApiUrl.replace(/\/$/, "")}/v1/webhooks/fal`;
}

export function providerFor(s: { config: Config }): ImageProvider {
  const c = s.config;
  // Production requires FAL_KEY (env.ts); the local Fal server accepts any key.
  const credentials = c.FAL_KEY ?? "local-dev:not-a-secret";
  return createFalProvider({
    credentials,
    // Production requires FAL_ADMIN_KEY too (env.ts); `npm run setup` makes a local one for the stand-in.
    adminCredentials: c.FAL_ADMIN_KEY ?? null,
    model: c.FAL_MODEL,
    queueUrl: c.FAL_QUEUE_URL,
    jwksUrl: c.FAL_JWKS_URL,
    webhookUrl: falWebhookUrl(c.PUBLIC_API_URL),
    inputs: URL_ONLY_MODELS.has(c.FAL_MODEL) ? "link" : "data-uri",
  });
}
