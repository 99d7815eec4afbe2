/**
 * A local stand-in's generation never names the Fal model (issue 19 item 2):
 * the API's `model` and the export's metadata.json use shownModel().
 */
import { describe, expect, it } from "vitest";
import { isLocalPreview, LOCAL_PREVIEW_MODEL, shownModel } from "../../worker/lib/local-preview";

describe("local preview: the model as shown to the owner", () => {
  it("is the stand-in exactly in development without FAL_KEY", () => {
    expect(isLocalPreview({ ENVIRONMENT: "development", FAL_KEY: undefined })).toBe(true);
    expect(isLocalPreview({ ENVIRONMENT: "development", FAL_KEY: "k" })).toBe(false);
    expect(isLocalPreview({ ENVIRONMENT: "production", FAL_KEY: undefined })).toBe(false);
  });

  it("names the stand-in, not the Fal model, for a preview", () => {
    const fal = "half-moon-ai/ai-baby-and-aging-generator/multi";
    expect(shownModel(fal, true)).toBe(LOCAL_PREVIEW_MODEL);
    expect(shownModel(fal, true)).not.toMatch(/half-moon|fal-ai/i);
    expect(shownModel(fal, false)).toBe(fal);
  });
});
