// npm run k6 -- export --scenario X [--seed N] --target URL [--admin URL] --out script.js
// Writes a k6 script (and its orders file beside it) that delivers the scenario's seeded order stream to the
// order gateway open loop. k6 itself is not part of oversell: run the script with your k6 (see README).
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { finished } from "node:stream/promises";
import { Readable } from "node:stream";
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { z } from "zod";
import { dataFileFor, dataFileRef, k6Data, k6Executor, k6Script, restockGroups } from "../k6/export.ts";
import { DEFAULT_SCENARIO, generateStream, loadScenario } from "../scenario/index.ts";
import { exitOnError, FLAG, flagIssues, parseOrExit, usageError } from "./options.ts";

const program = new Command("k6").description("k6 scripts for load from elsewhere").allowExcessArguments(false);

const url = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, "an http(s) URL, e.g. http://127.0.0.1:8080")
  .transform((u) => u.replace(/\/+$/, ""));

const flagsSchema = z.object({
  scenario: z.string().min(1),
  seed: FLAG.seed,
  target: url,
  admin: url.optional(),
  out: z.string().regex(/\.[cm]?js$/, "a .js file, e.g. load.js"),
});

const exportCmd = program
  .command("export")
  .description("write a k6 script delivering a scenario's seeded order stream to the gateway, open loop")
  .usage("--scenario X [--seed N] --target URL [--admin URL] --out script.js")
  .option("--scenario <name|file>", "built-in scenario or a JSON/YAML file", DEFAULT_SCENARIO)
  .option("--seed <n>", "seed of the stream (default: the scenario's)")
  .requiredOption("--target <url>", "the order gateway (npm run serve prints it)")
  .option("--admin <url>", "serve's admin endpoint: the scenario's restocks are posted there at their times")
  .requiredOption("--out <file>", "the script; the orders go beside it (<name>.orders.json)")
  .allowExcessArguments(false)
  .action(async (raw: Record<string, unknown>) => {
    const parsed = flagsSchema.safeParse(raw);
    if (!parsed.success) usageError(exportCmd, flagIssues(parsed.error));
    const f = parsed.data;
    try {
      const scenario = loadScenario(f.scenario);
      const seed = f.seed ?? scenario.seed ?? 1;
      const stream = generateStream(scenario, seed);
      const out = resolve(f.out);
      await mkdir(dirname(out), { recursive: true });
      const data = dataFileFor(out);
      await finished(Readable.from(k6Data(stream)).pipe(createWriteStream(data)));
      writeFileSync(out, k6Script(stream, { target: f.target, admin: f.admin, dataFile: dataFileRef(out) }));
      const ex = k6Executor(stream);
      const restocks = restockGroups(stream);
      process.stdout.write(
        `${out}: ${stream.table.length} orders of ${scenario.name} (seed ${seed}), ${ex.executor}, to ${f.target}\n` +
          `${data}: the orders (keep it beside the script)\n`,
      );
      if (restocks.length > 0 && !f.admin)
        process.stdout.write(
          `note: the scenario restocks at ${restocks.map((g) => `${g.atMs} ms`).join(", ")}; add --admin ` +
            `<serve's admin URL> to post them from the script, or POST /admin/restock yourself\n`,
        );
      process.stdout.write(
        `run: k6 run ${f.out}   (k6 is not bundled with oversell: see README, "Load from elsewhere")\n`,
      );
    } catch (e) {
      exitOnError(exportCmd, e);
    }
  });

await parseOrExit(program);
