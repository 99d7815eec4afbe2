/* global WebSocket */
// `npm run bench:api -- --targets generation --profile`: a CPU profile of the
// Worker (not wrangler, not the load generator) while the targets run, taken
// through the DevTools protocol of `wrangler dev --inspector-port`, printed as
// the functions with the most self and inclusive time.

const key = (frame) => `${frame.functionName || "(anonymous)"} ${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}`;

/** Runs `work` while the Worker behind `inspectorPort` is profiled; prints the top `top` functions. */
export async function profiled(inspectorPort, work, top = 30) {
  // wrangler's inspector proxy refuses a connection without a local Origin.
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("could not connect to the Worker's inspector"));
  });
  let next = 0;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data));
    waiting.get(msg.id)?.(msg);
    waiting.delete(msg.id);
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  const result = await work();
  const { result: stopped } = await send("Profiler.stop");
  ws.close();

  const { nodes, samples, timeDeltas } = stopped.profile;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const timeOf = new Map();
  samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (timeDeltas[i] ?? 0)));
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  for (const [id, t] of timeOf) {
    total += t;
    self.set(key(byId.get(id).callFrame), (self.get(key(byId.get(id).callFrame)) ?? 0) + t);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur).callFrame);
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + t);
      seen.add(k);
    }
  }
  const list = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, t]) => `  ${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join("\n");
  console.log(`\nCPU profile of the Worker (${(total / 1000).toFixed(0)} ms sampled)\nself:\n${list(self)}\ninclusive:\n${list(inclusive)}`);
  return result;
}
