/**
 * Deleting an account also stops its jobs at the model provider: a job still
 * running at Fal is canceled and its payloads deletion is requested, as when
 * one generation is deleted.
 */
import { eq } from "drizzle-orm";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { generations } from "../../worker/db/schema";
import { FAL_API_ORIGIN } from "../../worker/providers/fal";
import { deleteAccount } from "../../worker/services/deletion";
import { services } from "../helpers";
import { network } from "../network";
import { seedAccount } from "./fixtures";

describe("account deletion and the model provider", () => {
  it("cancels running provider jobs and asks for their payloads to be deleted", async () => {
    const s = services();
    const a = await seedAccount("dora");
    const requestId = "req-running-at-fal-0001";
    await s.db.update(generations).set({ status: "submitted", stage: "in_progress", providerRequestId: requestId, completedAt: null }).where(eq(generations.id, a.generationId));

    const seen: string[] = [];
    network.use(
      http.put(/\/requests\/[^/]+\/cancel$/, ({ request }) => {
        seen.push(`cancel ${new URL(request.url).pathname}`);
        return HttpResponse.json({ status: "CANCELLATION_REQUESTED" }, { status: 202 });
      }),
      http.delete(`${FAL_API_ORIGIN}/v1/models/requests/:id/payloads`, ({ params }) => {
        seen.push(`delete-payloads ${String(params["id"])}`);
        return HttpResponse.json({}, { status: 200 });
      }),
    );

    const result = await deleteAccount(s, a.userId, { source: "user", retryViaQueue: false });
    expect(result?.status).toBe("deleted");
    expect(seen.some((x) => x.startsWith("cancel ") && x.includes(requestId))).toBe(true);
    expect(seen).toContain(`delete-payloads ${requestId}`);
    expect(await s.db.select().from(generations).where(eq(generations.userId, a.userId)).all()).toEqual([]);
  });
});
