/**
 * What an incident says to anyone allowed to see it: the fields the public
 * post-mortem (routes/incidents.ts) and the operators' view
 * (routes/admin-incidents.ts) share, as a schema shape and its presenter.
 */
import { z } from "@hono/zod-openapi";
import { iso } from "../lib/iso";
import { parseDataKinds, type IncidentRow } from "../services/incidents";

export const incidentFactsShape = {
  slug: z.string(),
  title: z.string(),
  summary: z.string(),
  awareAt: z.string(),
  windowStart: z.string(),
  windowEnd: z.string(),
  dataKinds: z.array(z.string()),
  affectedUsers: z.number().int().nullable(),
  authorityNotifiedAt: z.string().nullable(),
  usersNotifiedAt: z.string().nullable(),
};

export function incidentFacts(row: IncidentRow) {
  return {
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    awareAt: new Date(row.awareAt).toISOString(),
    windowStart: new Date(row.windowStart).toISOString(),
    windowEnd: new Date(row.windowEnd).toISOString(),
    dataKinds: parseDataKinds(row),
    affectedUsers: row.affectedUsers,
    authorityNotifiedAt: iso(row.authorityNotifiedAt),
    usersNotifiedAt: iso(row.usersNotifiedAt),
  };
}
