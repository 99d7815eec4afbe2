// Signed-link verification cost per call, in Node: the Worker's own
// verifyLink (worker/services/signed-links.ts, bundled) against a bare
// HMAC-SHA256 of the same input with a pre-imported key. The difference is
// the price of parsing, expiry checks, the key-ring lookup, base64url decoding
// and the constant-time compare. The D1 lookup each hit also makes is measured
// end to end by bench/api/run.mjs, not here.
import { performance } from "node:perf_hooks";
import { importWorkerModule } from "../../scripts/lib/worker-module.mjs";

export async function benchSignedLink({ iterations = 50_000 } = {}) {
  const { verifyLink, signLink, linkSigningInput } = await importWorkerModule("worker/services/signed-links.ts");
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  const ring = { current: "k1", keys: { k1: secret, k0: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64") } };
  const now = Math.floor(Date.now() / 1000);
  const claims = { objectId: "img_9f86d081884c7d659a2feaa0c55ad015", ownerId: "usr_0f343b0931126a20f133d67c2b018a3b", exp: now + 600, disposition: "inline" };
  const { kid, sig } = await signLink(ring, claims);
  const check = await verifyLink(ring, claims, kid, sig, now, 3600);
  if (!check.ok) throw new Error(`verifyLink refused a good link: ${check.reason}`);

  const rawKey = await crypto.subtle.importKey("raw", Buffer.from(secret, "base64"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const input = new TextEncoder().encode(linkSigningInput(claims));

  async function round(fn, n) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return ((performance.now() - t0) * 1000) / n; // µs per call
  }
  const cases = {
    bare: () => crypto.subtle.sign("HMAC", rawKey, input),
    verify: () => verifyLink(ring, claims, kid, sig, now, 3600),
    refuse: () => verifyLink(ring, claims, kid, `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`, now, 3600),
  };
  for (const fn of Object.values(cases)) await round(fn, 3000); // warm-up: JIT, key cache
  // Interleaved rounds, median per case: the machine is shared, so one slow
  // stretch must not land on a single case.
  const ROUNDS = 7;
  const samples = { bare: [], verify: [], refuse: [] };
  for (let r = 0; r < ROUNDS; r++) for (const [name, fn] of Object.entries(cases)) samples[name].push(await round(fn, Math.ceil(iterations / ROUNDS)));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bare = median(samples.bare);
  const verify = median(samples.verify);
  const refuse = median(samples.refuse);
  return { iterations, bareHmacUs: bare, verifyUs: verify, refuseUs: refuse, ratio: verify / bare, node: process.version };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchSignedLink();
  console.log(JSON.stringify(r, null, 2));
}
