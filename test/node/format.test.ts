/**
 * The SPA's words for numbers (web/src/lib/format.ts, issue 19 item 4): plural
 * forms by Intl.PluralRules and durations in the largest whole unit, so no
 * page says "1 days" or "1 images".
 */
import { describe, expect, it } from "vitest";
import { formatDuration, plural } from "../../web/src/lib/format";

describe("format: plural forms and durations", () => {
  it("picks the singular for one and the plural otherwise", () => {
    expect(plural(1, "day", "days")).toBe("1 day");
    expect(plural(0, "image", "images")).toBe("0 images");
    expect(plural(2, "image", "images")).toBe("2 images");
    expect(plural(21, "credit", "credits")).toBe("21 credits");
    expect(plural(1500, "credit", "credits")).toBe("1,500 credits");
  });

  it("says durations in whole days, hours or minutes with the right form", () => {
    expect(formatDuration(86_400)).toBe("1 day");
    expect(formatDuration(90 * 86_400)).toBe("90 days");
    expect(formatDuration(3_600)).toBe("1 hour");
    expect(formatDuration(7_200)).toBe("2 hours");
    expect(formatDuration(60)).toBe("1 minute");
    expect(formatDuration(300)).toBe("5 minutes");
  });
});
