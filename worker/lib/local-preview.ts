/**
 * The local Fal fake (scripts/fal-local.mjs) stands in for the model exactly
 * when a development deployment has no FAL_KEY (scripts/start.mjs; production
 * requires one, env.ts). Its outputs are labelled non-AI collages, so wherever
 * a generation is shown or exported the model is named as that stand-in, never
 * as the Fal model the row was queued for (issue 19 item 2).
 */
import type { Config } from "../env";

export const LOCAL_PREVIEW_MODEL = "local preview, not AI (scripts/fal-local.mjs)";
export const LOCAL_PREVIEW_LABEL = "PREVIEW — NOT AI: a labelled collage of the two parent photos made by a local stand-in for the model, not a prediction of a baby.";

export function isLocalPreview(config: Pick<Config, "ENVIRONMENT" | "FAL_KEY">): boolean {
  return config.ENVIRONMENT === "development" && !config.FAL_KEY;
}

/** The model a generation's images came from, as told to its owner. */
export function shownModel(model: string, preview: boolean): string {
  return preview ? LOCAL_PREVIEW_MODEL : model;
}
