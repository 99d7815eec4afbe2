/** Worker entry: wiring only. */
import { createApp } from "./app";
import type { Bindings } from "./env";
import { handleQueue } from "./queue/consumer";
import type { JobMessage } from "./queue/messages";
import { handleScheduled } from "./scheduled";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx),
} satisfies ExportedHandler<Bindings, JobMessage>;
