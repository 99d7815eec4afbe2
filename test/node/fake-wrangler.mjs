/* global process, console -- a Node script spawned by test/node/provision.test.ts */
// A stand-in for the `wrangler` CLI in provisioning tests: answers the
// commands scripts/provision.mjs runs the way wrangler 4 prints them
// (`d1 list --json` and `kv namespace list` as JSON, `r2 bucket list` as
// `name:` lines, `queues list` as a table, `secret list --format json` as
// [{name, type}]), keeps the account's state in FAKE_WRANGLER_STATE and
// appends every invocation to FAKE_WRANGLER_CALLS (one JSON array per line).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

const statePath = process.env.FAKE_WRANGLER_STATE;
const callsPath = process.env.FAKE_WRANGLER_CALLS;
if (!statePath || !callsPath) {
  console.error("fake wrangler: FAKE_WRANGLER_STATE and FAKE_WRANGLER_CALLS are required");
  process.exit(90);
}
const argv = process.argv.slice(2);
appendFileSync(callsPath, `${JSON.stringify(argv)}\n`);
const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : {};
state.d1 ??= [];
state.r2 ??= [];
state.queues ??= [];
state.kv ??= [];
state.secrets ??= {};
const save = () => writeFileSync(statePath, JSON.stringify(state));
const out = (s) => process.stdout.write(s);
const cmd = argv.filter((a) => !a.startsWith("--")).slice(0, 3).join(" ");
const arg = (i) => argv.filter((a) => !a.startsWith("--"))[i];
const flag = (name) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};

if (cmd.startsWith("d1 list")) {
  out(JSON.stringify(state.d1.map((d) => ({ uuid: d.uuid, name: d.name, created_at: "2026-12-05T00:00:00.000Z", version: "production", num_tables: 0, file_size: 0 })), null, 2));
} else if (cmd.startsWith("d1 create")) {
  const name = arg(2);
  if (state.d1.some((d) => d.name === name)) {
    console.error(`✘ [ERROR] A request to the Cloudflare API (/accounts/x/d1/database) failed.\n  database with name "${name}" already exists [code: 7502]`);
    process.exit(1);
  }
  const uuid = randomUUID();
  state.d1.push({ name, uuid });
  save();
  out(
    `✅ Successfully created DB '${name}' in region WEUR\nCreated your new D1 database.\n\nTo access your new D1 Database in your Worker, add the following snippet to your configuration file:\n` +
      JSON.stringify({ d1_databases: [{ binding: name.replace(/-/g, "_"), database_name: name, database_id: uuid }] }, null, 2) +
      "\n",
  );
} else if (cmd.startsWith("r2 bucket list")) {
  out(`Listing buckets...\n${state.r2.map((b) => `name:           ${b}\ncreation_date:  2026-12-05T00:00:00.000Z\n`).join("\n")}`);
} else if (cmd.startsWith("r2 bucket create")) {
  const name = arg(3);
  if (state.r2.includes(name)) {
    console.error(`✘ [ERROR] The bucket you tried to create already exists, and you own it. [code: 10004]`);
    process.exit(1);
  }
  state.r2.push(name);
  save();
  out(`Creating bucket '${name}'...\n✅ Created bucket '${name}' with default storage class of Standard.\n`);
} else if (cmd.startsWith("queues list")) {
  const rows = state.queues.map((q) => `│ ${q.id} │ ${q.name} │ 2026-12-05T00:00:00Z │ 2026-12-05T00:00:00Z │ 0 │ 0 │`);
  out(`┌─┬─┐\n│ id │ name │ created_on │ modified_on │ producers │ consumers │\n├─┼─┤\n${rows.join("\n")}\n└─┴─┘\n`);
} else if (cmd.startsWith("queues create")) {
  const name = arg(2);
  if (state.queues.some((q) => q.name === name)) {
    console.error(`✘ [ERROR] Queue name '${name}' is already taken. [code: 11009]`);
    process.exit(1);
  }
  state.queues.push({ name, id: randomUUID().replace(/-/g, "") });
  save();
  out(`🌀 Creating queue '${name}'\n✅ Created queue '${name}'\n`);
} else if (cmd.startsWith("kv namespace list")) {
  out(JSON.stringify(state.kv.map((n) => ({ id: n.id, title: n.title, supports_url_encoding: true })), null, 2));
} else if (cmd.startsWith("kv namespace create")) {
  const title = arg(3);
  const id = randomUUID().replace(/-/g, "");
  state.kv.push({ id, title });
  save();
  out(`🌀 Creating namespace with title "${title}"\n✨ Success!\n`);
} else if (cmd.startsWith("secret list")) {
  const env = flag("--env") ?? "";
  const names = Object.keys(state.secrets[env] ?? {});
  if (state.workerMissing) {
    console.error(`✘ [ERROR] A request to the Cloudflare API failed.\n  This Worker does not exist on your account. [code: 10007]`);
    process.exit(1);
  }
  out(JSON.stringify(names.map((name) => ({ name, type: "secret_text" })), null, 2));
} else {
  console.error(`fake wrangler: unexpected command: ${argv.join(" ")}`);
  process.exit(91);
}
