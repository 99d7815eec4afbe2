/** Fakes for outgoing-webhook tests: Cloudflare's DNS-over-HTTPS JSON API and a receiving endpoint, both with msw. */
import { http, HttpResponse } from "msw";
import { network } from "../network";

/** Host name -> addresses the fake resolver answers; names not listed are NXDOMAIN. */
export function fakeDns(records: Record<string, string[]>): void {
  network.use(
    http.get("https://cloudflare-dns.com/dns-query", ({ request }) => {
      const url = new URL(request.url);
      if (request.headers.get("accept") !== "application/dns-json") return new HttpResponse(null, { status: 415 });
      const name = url.searchParams.get("name") ?? "";
      const type = url.searchParams.get("type") === "AAAA" ? 28 : 1;
      const addrs = records[name];
      if (!addrs) return HttpResponse.json({ Status: 3, Question: [{ name, type }] });
      const answer = addrs.filter((a) => (type === 28 ? a.includes(":") : !a.includes(":"))).map((data) => ({ name, type, TTL: 60, data }));
      return HttpResponse.json({ Status: 0, Question: [{ name, type }], Answer: answer });
    }),
  );
}

export interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A receiving endpoint at `url` answering `status` (or by the function); returns what it received. */
export function fakeReceiver(url: string, answer: number | ((n: number) => Response | Promise<Response>) = 200): Received[] {
  const received: Received[] = [];
  network.use(
    http.post(url, async ({ request }) => {
      received.push({ headers: Object.fromEntries(request.headers), body: await request.text() });
      return typeof answer === "number" ? new HttpResponse("ok", { status: answer }) : answer(received.length);
    }),
  );
  return received;
}
