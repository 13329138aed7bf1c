// npm run capacity -- --sut a,b [--slo-p99 1s] [--from 500] [--max 200000] [--bootstrap h:p,...] [--out DIR]
//   [--quick] [--kafka-version X] [--no-progress]
// Exit: 0 written (whatever the figures), 2 on a bad flag or an error before anything was measured.
import { resolve } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { describeConnection } from "../kafka/connection.ts";
import { capacityPlan, renderCapacitySummary, runCapacity } from "../capacity/run.ts";
import { newRunId } from "../run/bench.ts";
import { Progress } from "../run/progress.ts";
import { MAX_RATE_PER_SEC } from "../scenario/schema.ts";
import { InputError } from "../shared/zod-errors.ts";
import { listSuts, loadManifest } from "../sut/manifest.ts";
import { parseSetFlags } from "../sut/settings.ts";
import {
  addConnectionOptions,
  asFlagError,
  connectionFromFlags,
  exitOnError,
  flagIssues,
  parseOrExit,
  usageError,
} from "./options.ts";

const program = addConnectionOptions(
  new Command("capacity")
    .description(
      "find each SUT's highest sustainable open-loop rate (judged runs at rising rates, then a bisection), " +
        "beside Kafka's own producer ceiling on the same broker",
    )
    .usage("--sut a,b [--slo-p99 1s] [--from 500] [--max 200000] [--bootstrap h:p,...] [--out DIR] [--quick]")
    .option("--sut <names>", `comma-separated SUTs (default: all: ${listSuts().join(", ")})`)
    .option("--slo-p99 <time>", "a sustained step's p99 decision latency is at most this (e.g. 500ms, 1s)", "1s")
    .option("--from <rate>", "first rate, orders/s", "500")
    .option("--max <rate>", "highest rate tried, orders/s", "200000")
    .option("--quick", "5 s steps and a coarse bisection (about 5 min a SUT)")
    .option(
      "--set <sut.setting=value>",
      "a SUT setting over its throughput profile (e.g. keyed-transactional.client=kafkajs); repeatable",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--kafka-version <v>", "embedded Kafka version (Maven Central)")
    .option("--out <dir>", "output folder (default reports/capacity-<runId>)")
    .option("--no-progress", "no live progress line (step lines still print)"),
).allowExcessArguments(false);

const rate = (what: string) =>
  z
    .string()
    .regex(/^\d+$/, `${what}: a whole number of orders/s`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_RATE_PER_SEC, `between 1 and ${MAX_RATE_PER_SEC}`);

/** "500ms", "1s", "1.5s" → µs. */
export const durationUs = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s)$/, "a time like 500ms or 1s")
  .transform((t) => Math.round(parseFloat(t) * (t.endsWith("ms") ? 1000 : 1_000_000)))
  .refine((us) => us > 0, "more than 0");

const flagsSchema = z
  .object({
    sut: z
      .string()
      .regex(/^[^,]+(,[^,]+)*$/, "comma-separated SUT names (or folders with a sut.json)")
      .optional(),
    sloP99: durationUs,
    from: rate("--from"),
    max: rate("--max"),
    quick: z.boolean().optional(),
    kafkaVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "a version like 4.1.1")
      .optional(),
    bootstrap: z.string().optional(),
    out: z.string().min(1).optional(),
    set: z.array(z.string()),
    progress: z.boolean(),
  })
  .refine((f) => f.max >= f.from, { message: "--max must be at least --from", path: ["max"] });

program.action(async (raw: Record<string, unknown>) => {
  const parsed = flagsSchema.safeParse(raw);
  if (!parsed.success) usageError(program, flagIssues(parsed.error));
  const f = parsed.data;
  try {
    if (f.bootstrap && f.kafkaVersion) usageError(program, "--kafka-version is for the embedded cluster");
    const connection = connectionFromFlags(raw);
    const items = f.sut ? [...new Set(f.sut.split(",").map((x) => x.trim()))] : listSuts();
    if (items.length === 0) throw new InputError("no SUT found under systems-under-test/ (each needs a sut.json)");
    const manifests = items.map((x) => loadManifest(x)); // unknown name or bad manifest: exit 2 now
    const names = manifests.map((m) => m.name);
    const settings = asFlagError(() => parseSetFlags(f.set, manifests));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new InputError(`--sut: two SUTs are named "${dup}"`);
    const outDir = resolve(f.out ?? `reports/capacity-${newRunId()}`);
    const quick = f.quick ?? false;
    const { stepSeconds, warmupSeconds } = capacityPlan({ quick, fromPerSec: f.from, maxPerSec: f.max });
    const t0 = Date.now();
    const say = (line: string) =>
      status.log(
        `[capacity ${new Date().toISOString().slice(11, 19)} +${Math.round((Date.now() - t0) / 1000)} s] ${line}`,
      );
    const status = new Progress(process.stderr, !f.progress);
    say(
      `${names.join(", ")} on ${connection ? describeConnection(connection) : "embedded Kafka"}: from ${f.from}/s ` +
        `×2 up to ${f.max}/s then bisect; steps of ${warmupSeconds} s warm-up + ${stepSeconds} s; ` +
        `SLO p99 ≤ ${f.sloP99 / 1000} ms; out ${outDir}`,
    );
    const { report, files } = await runCapacity({
      suts: items,
      settings,
      connection,
      kafkaVersion: f.kafkaVersion,
      sloP99Us: f.sloP99,
      fromPerSec: f.from,
      maxPerSec: f.max,
      quick,
      outDir,
      command: ["npm run capacity --", ...process.argv.slice(2)].join(" "),
      log: say,
      status,
    });
    process.stdout.write(`\n${renderCapacitySummary(report)}\n\n`);
    process.stdout.write(`written: ${files.join(", ")}\n`);
    process.stdout.write(`wall time: ${((Date.now() - t0) / 60_000).toFixed(1)} min\n`);
    process.exit(0);
  } catch (e) {
    exitOnError(program, e);
  }
});

await parseOrExit(program);
