/** The events an endpoint can subscribe to (shared with the web app, so no imports here). */
export const WEBHOOK_EVENTS = ["generation.completed", "generation.failed", "export.ready", "account.deleted"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
