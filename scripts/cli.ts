/**
 * The BabyPic command-line client (docs/api.md), built on the client library
 * (`#client`, client/index.ts):
 *
 *   npm run -s cli -- api                         (prints the API base URL the other commands use)
 *   npm run -s cli -- me
 *   npm run -s cli -- consent --accept            (session tokens only: the person accepts the terms)
 *   npm run -s cli -- upload mother.jpg
 *   npm run -s cli -- generate --mother pho_… --father pho_… [--gender girl|boy|surprise] [--age newborn|toddler|child] [--images 1-4] [--resemblance 0-1] [--wait]
 *   npm run -s cli -- download gen_… [--out dir]
 *   npm run -s cli -- delete-generation gen_…
 *
 * BABYPIC_API is the API's base URL (default: the running `npm start`'s API,
 * whatever its port, else http://127.0.0.1:8787); BABYPIC_TOKEN an API key
 * (bp_…) or a session token.
 * Results are JSON on stdout; progress goes to stderr. An API error prints
 * the problem's title and detail and exits 1; a usage error exits 2.
 * Runs on Node >= 22.18 (native TypeScript); `npm run cli` brings one.
 */
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BabyPicError, createBabyPicClient, dataOf, type CreateGenerationInput, type PhotoType } from "#client";

const USAGE = `usage: npm run -s cli -- <command>
  api                                  print the API base URL the commands use (BABYPIC_API or the running npm start's)
  me                                   who the token acts for
  consent [--accept]                   show the terms version and your consent; --accept records it (session token only)
  upload <file>                        seal and upload a .jpg, .png or .webp photo; prints the photo
  generate --mother <id> --father <id> [--gender girl|boy|surprise] [--age newborn|toddler|child]
           [--images n] [--resemblance 0..1] [--wait]
                                       start a generation; with --wait, show progress until it ends
  download <generationId> [--out dir]  save every output image (default: current directory)
  delete-generation <id>               delete a generation and its images; prints the receipt
options: --id prints only the id of the photo or generation (for scripts)
environment: BABYPIC_API (default: the running npm start's API), BABYPIC_TOKEN (API key or session token)`;

class UsageError extends Error {}

/** The API of the running `npm start` (scripts/start.mjs writes where it listens), else its default port. */
function defaultApi(): string {
  try {
    const info = JSON.parse(
      readFileSync(decodeURIComponent(new URL("../.wrangler/running-app.json", import.meta.url).pathname), "utf8"),
    ) as { pid: number; apiUrl: string };
    process.kill(info.pid, 0);
    return info.apiUrl;
  } catch {
    return "http://127.0.0.1:8787";
  }
}

const TYPES: Record<string, PhotoType> = { ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp" };
const EXT: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp" };

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name} must be one of ${allowed.join(", ")}`);
}

function numberIn(name: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help") {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      mother: { type: "string" },
      father: { type: "string" },
      gender: { type: "string" },
      age: { type: "string" },
      images: { type: "string" },
      resemblance: { type: "string" },
      wait: { type: "boolean" },
      accept: { type: "boolean" },
      id: { type: "boolean" },
      out: { type: "string" },
    },
  });
  // Where the other commands go (for curl in scripts: the README's quick start uses it), no token needed.
  if (command === "api") {
    if (positionals.length) throw new UsageError("api takes no arguments");
    process.stdout.write(`${env["BABYPIC_API"] || defaultApi()}\n`);
    return 0;
  }
  const token = env["BABYPIC_TOKEN"] ?? "";
  if (!token) throw new UsageError("Set BABYPIC_TOKEN to an API key (bp_...) or a session token.");
  const output = (value: { id: string }) => (values.id ? process.stdout.write(`${value.id}\n`) : print(value));
  const client = createBabyPicClient({ baseUrl: env["BABYPIC_API"] || defaultApi(), token });

  switch (command) {
    case "me":
      print(await client.me());
      return 0;
    case "consent": {
      const terms = await dataOf(await client.api.GET("/v1/me/consent"));
      if (!values.accept) {
        print(terms);
        return 0;
      }
      // Only a person's session can accept; the API refuses API keys (403).
      print(await dataOf(await client.api.POST("/v1/me/consent", { body: { termsVersion: terms.termsVersion, peopleConsent: true } })));
      return 0;
    }
    case "upload": {
      const [file] = positionals;
      if (!file) throw new UsageError("upload needs a file");
      const type = TYPES[extname(file).toLowerCase()];
      if (!type) throw new UsageError(`${file}: use a .jpg, .jpeg, .png or .webp file`);
      output(await client.uploadPhoto(new Uint8Array(await readFile(file)), type));
      return 0;
    }
    case "generate": {
      if (!values.mother || !values.father) throw new UsageError("generate needs --mother <photoId> and --father <photoId>");
      const input: CreateGenerationInput = {
        motherPhotoId: values.mother,
        fatherPhotoId: values.father,
        gender: oneOf("gender", values.gender, ["girl", "boy", "surprise"] as const, "surprise"),
        ageGroup: oneOf("age", values.age, ["newborn", "toddler", "child"] as const, "newborn"),
        images: numberIn("images", values.images, 1, 4, 1),
        resemblance: numberIn("resemblance", values.resemblance, 0, 1, 0.5),
      };
      let generation = await client.createGeneration(input);
      if (values.wait) {
        let last = "";
        generation = await client.waitForGeneration(generation.id, {
          onProgress: (g) => {
            const line = `${g.status} ${g.progress.stage} ${g.progress.percent}%`;
            if (line !== last) process.stderr.write(`${line}\n`);
            last = line;
          },
        });
      }
      output(generation);
      return generation.status === "failed" || generation.status === "canceled" ? 1 : 0;
    }
    case "download": {
      const [id] = positionals;
      if (!id) throw new UsageError("download needs a generation id");
      const generation = await client.getGeneration(id);
      if (generation.status !== "completed")
        throw new UsageError(`generation ${id} is ${generation.status}; only a completed one has images`);
      const dir = resolve(values.out ?? ".");
      await mkdir(dir, { recursive: true });
      const files: { outputId: string; path: string; bytes: number; contentType: string }[] = [];
      for (const output of generation.outputs) {
        const { bytes, contentType } = await client.downloadOutput(output);
        const path = join(dir, `${output.id}.${EXT[contentType] ?? "bin"}`);
        await writeFile(path, bytes);
        files.push({ outputId: output.id, path, bytes: bytes.byteLength, contentType });
      }
      print({ generationId: id, files });
      return 0;
    }
    case "delete-generation": {
      const [id] = positionals;
      if (!id) throw new UsageError("delete-generation needs a generation id");
      print(await client.deleteGeneration(id));
      return 0;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

if (import.meta.main) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (err instanceof BabyPicError) {
      // The problem's title and detail, and the request id to quote; never the token.
      const p = err.problem;
      process.stderr.write(
        `error: ${p ? p.title : err.message}${p?.detail ? `\n${p.detail}` : ""}${p?.requestId ? `\n(request id ${p.requestId})` : ""}\n`,
      );
      process.exitCode = 1;
    } else if (err instanceof TypeError && err.message === "fetch failed") {
      process.stderr.write(
        `error: could not reach the API at ${process.env["BABYPIC_API"] || defaultApi()} (is it running? set BABYPIC_API)\n`,
      );
      process.exitCode = 1;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}
