// npm run gate -- [--full] [--only substr,...] [--repeat N] [--seed N] [--out DIR] [--kafka-version X] [--list]
//   [--history FILE] [--flaky] [--no-progress]
// The CI correctness gate: every SUT × fault cell on one embedded broker behind fault proxies.
// Each execution is appended to the history file; --flaky summarises it without running anything.
// Exit: 0 every cell met its expectation, 1 one did not, 2 one could not be judged or an error.
import { join, resolve } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { DEFAULT_HISTORY_FILE, readHistory, renderFlaky, summariseFlaky } from "../gate/history.ts";
import { expectedVerdict } from "../gate/matrix.ts";
import { gateCells, runGate } from "../gate/run.ts";
import { newRunId } from "../run/bench.ts";
import { Progress } from "../run/progress.ts";
import { flagIssues, parseOrExit, usageError, exitOnError } from "./options.ts";

/** Default base seed of every cell: fixed, so a red gate is reproduced with the same streams. */
const DEFAULT_SEED = 11;

const program = new Command("gate")
  .description(
    "the CI correctness gate: each SUT under each fault kind (and " +
      "no fault), judged against its expectation; junit.xml + summary",
  )
  .usage("[--full] [--only substr,...] [--repeat N] [--seed N] [--out DIR] [--list] [--flaky]")
  .option("--full", "every cell, not only the CI set")
  .option(
    "--only <substrings>",
    "run only cells whose id contains one of these (comma-separated), e.g. saga[ or naive,keyed-transactional[none]",
  )
  .option("--repeat <n>", "run each cell N times with seeds seed, seed+1, ... and report how many failed", "1")
  .option("--seed <n>", `base seed of every cell (default ${DEFAULT_SEED})`)
  .option("--out <dir>", "gate folder (default reports/gate-<timestamp>/)")
  .option("--kafka-version <v>", "embedded Kafka version (Maven Central)")
  .option("--list", "print the matrix (cell, faults, expectation) and exit")
  .option(
    "--history <file>",
    `where each execution is appended (default ${DEFAULT_HISTORY_FILE})`,
    DEFAULT_HISTORY_FILE,
  )
  .option("--flaky", "from the history file: which cells missed their expectation, with which seeds; runs nothing")
  .option("--no-progress", "no progress line (cell lines still print)")
  .allowExcessArguments(false);

const flagsSchema = z.object({
  only: z.string().min(1).optional(),
  repeat: z
    .string()
    .regex(/^([1-9]|[1-4]\d|50)$/, "1 to 50")
    .transform(Number),
  seed: z
    .string()
    .regex(/^\d{1,15}$/, "a non-negative integer")
    .transform(Number)
    .optional(),
  out: z.string().min(1).optional(),
  kafkaVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, "a version like 4.1.1")
    .optional(),
  list: z.boolean().optional(),
  full: z.boolean().optional(),
  history: z.string().min(1),
  flaky: z.boolean().optional(),
  progress: z.boolean(),
});

program.action(async (raw: Record<string, unknown>) => {
  const parsed = flagsSchema.safeParse(raw);
  if (!parsed.success) usageError(program, flagIssues(parsed.error));
  const f = parsed.data;
  try {
    if (f.flaky) {
      const { records, problems } = await readHistory(resolve(f.history));
      process.stdout.write(`${renderFlaky(summariseFlaky(records), problems, f.history)}\n`);
      process.exit(0);
    }
    if (f.list) {
      for (const c of gateCells(f.only, f.full)) {
        process.stdout.write(
          `${c.id.padEnd(48)} ${c.ci ? "ci  " : "full"} ${(c.faults ?? "-").padEnd(26)} ` +
            `${String(c.scenario.name).padEnd(16)} expected ` +
            `${expectedVerdict(c)}${c.expectedViolations.length ? ` (${c.expectedViolations.join(", ")})` : ""}` +
            `${c.reason ? ` — ${c.reason}` : ""}\n`,
        );
      }
      process.exit(0);
    }
    const gateId = newRunId();
    const outDir = resolve(f.out ?? join("reports", `gate-${gateId}`));
    const outcome = await runGate({
      outDir,
      only: f.only,
      full: f.full,
      repeat: f.repeat,
      seed: f.seed ?? DEFAULT_SEED,
      kafkaVersion: f.kafkaVersion,
      gateId,
      historyFile: resolve(f.history),
      progress: new Progress(process.stderr, !f.progress),
    });
    process.stdout.write(
      `\n${outcome.summary}\n\ngate folder: ${outDir} (junit.xml, summary.txt, ` +
        `gate.json, kafka.log; one run folder per cell with result.json and report.html)\n`,
    );
    process.exit(outcome.exitCode);
  } catch (e) {
    exitOnError(program, e);
  }
});

await parseOrExit(program);
