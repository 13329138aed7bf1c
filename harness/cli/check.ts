// npm run check -- <run-dir> [--bootstrap h:p,...] [TLS/SASL flags]
// Judges a stored run again from its history.ndjson and the topics the broker still holds; writes
// <run-dir>/check.json (+ check.junit.xml) and leaves result.json as the run wrote it.
import { Command } from "commander";
import { existsSync } from "node:fs";
import { runCheck, storedBootstrap } from "../run/check.ts";
import { Progress } from "../run/progress.ts";
import { InputError } from "../shared/zod-errors.ts";
import { addConnectionOptions, connectionFromFlags, parseOrExit, usageError, exitOnError } from "./options.ts";

const program = addConnectionOptions(
  new Command("check")
    .description("judge a stored run again from its history and the topics (the broker must still hold them)")
    .usage("<run-dir> [--bootstrap h:p,...]")
    .argument("<run-dir>", "a run folder (reports/<runId>)")
    .option("--no-progress", "no progress line"),
).allowExcessArguments(false);

program.action(async (runDir: string, raw: Record<string, unknown> & { progress: boolean }) => {
  try {
    if (!existsSync(runDir)) usageError(program, `no such run folder: ${runDir}`);
    const flags = raw as Parameters<typeof connectionFromFlags>[0];
    const bootstrap = flags.bootstrap ?? storedBootstrap(runDir);
    if (!bootstrap) throw new InputError(`${runDir}: no bootstrap in result.json or history.ndjson; give --bootstrap`);
    const connection = connectionFromFlags({ ...flags, bootstrap });
    const out = await runCheck({ runDir, connection, progress: new Progress(process.stderr, !raw.progress) });
    process.stdout.write(`\n${out.summary}\n\nwritten: ${out.file}\n`);
    process.exit(out.exitCode);
  } catch (e) {
    exitOnError(program, e);
  }
});

await parseOrExit(program);
