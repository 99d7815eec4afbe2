/**
 * "Errors say what happened and what to do next" (issue 19 item 4): every
 * error code of worker/errors.ts has a next step in the SPA
 * (web/src/lib/api/problem.ts NEXT_STEP), the map names no code the API does
 * not have, and the message the SPA shows carries both parts.
 */
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../worker/errors";
import { ApiError, describeError, NEXT_STEP, nextStep } from "../../web/src/lib/api/problem";

const apiCodes = Object.keys(ERROR_CODES).sort();
const mapped = Object.keys(NEXT_STEP).sort();

describe("error messages: a next step for every code (happy)", () => {
  it("every code in worker/errors.ts has a next step", () => {
    const missing = apiCodes.filter((c) => !mapped.includes(c));
    expect(missing, "codes without a next step in web/src/lib/api/problem.ts NEXT_STEP").toEqual([]);
  });

  it("the map names only codes worker/errors.ts has", () => {
    const unknown = mapped.filter((c) => !apiCodes.includes(c));
    expect(unknown, "NEXT_STEP entries for codes the API does not have").toEqual([]);
  });

  it("each next step is a sentence that tells the person to do something, and none repeats the API's title", () => {
    for (const code of apiCodes) {
      const step = nextStep(code) ?? "";
      expect(step, code).toMatch(/^[A-Z].{10,}\.$/);
      expect(step.toLowerCase(), code).not.toBe(ERROR_CODES[code as keyof typeof ERROR_CODES].title.toLowerCase());
    }
  });

  it("the shown message says what happened, then what to do, and keeps the request id for a server error", () => {
    const credits = new ApiError(402, { code: "insufficient_credits", status: 402, title: "Not enough credits", requestId: "r1", type: "t" });
    expect(describeError(credits)).toBe(`Not enough credits. ${NEXT_STEP.insufficient_credits}`);
    const detail = new ApiError(409, { code: "conflict", status: 409, title: "Conflict", detail: "The generation already finished.", requestId: "r2", type: "t" });
    expect(describeError(detail)).toBe(`The generation already finished. ${NEXT_STEP.conflict}`);
    const internal = new ApiError(500, { code: "internal", status: 500, title: "Internal error", requestId: "req-9", type: "t" });
    expect(describeError(internal)).toBe(`Internal error. ${NEXT_STEP.internal} (request id req-9)`);
  });
});

describe("error messages (security)", () => {
  it("a code the API does not have gets no invented next step", () => {
    expect(nextStep("__proto__")).toBeUndefined();
    expect(nextStep("toString")).toBeUndefined();
    expect(describeError(new ApiError(418, { code: "teapot", status: 418, title: "I'm a teapot", requestId: "r", type: "t" }))).toBe("I'm a teapot.");
  });
});
