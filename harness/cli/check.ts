// npm run check -- <run-dir> [--from-topics [--bootstrap h:p,...] [TLS/SASL flags]]
// Judges a stored run again: offline from the run folder (history.ndjson and the records of what the checker
// read), or with --from-topics from the topics a broker still holds. Writes <run-dir>/check.json
// (+ check.junit.xml) and leaves result.json as the run wrote it.
import { Command } from "commander";
import { existsSync } from "node:fs";
import { runCheck, storedBootstrap } from "../run/check.ts";
import { Progress } from "../run/progress.ts";
import { InputError } from "../shared/zod-errors.ts";
import { addConnectionOptions, connectionFromFlags, parseOrExit, usageError, exitOnError } from "./options.ts";

const program = addConnectionOptions(
  new Command("check")
    .description("judge a stored run again from its run folder (no broker), or with --from-topics from a broker")
    .usage("<run-dir> [--from-topics [--bootstrap h:p,...]]")
    .argument("<run-dir>", "a run folder (reports/<runId>)")
    .option("--from-topics", "read the decisions from the broker again (the topics must still be there)")
    .option("--cross-check", "with --from-topics: a second reader (Kafka's Java consumer) must agree on the decisions")
    .option("--no-progress", "no progress line"),
).allowExcessArguments(false);

type CheckFlags = Record<string, unknown> & { progress: boolean; fromTopics?: boolean; crossCheck?: boolean };

program.action(async (runDir: string, raw: CheckFlags) => {
  try {
    if (!existsSync(runDir)) usageError(program, `no such run folder: ${runDir}`);
    const flags = raw as Parameters<typeof connectionFromFlags>[0];
    if (!raw.fromTopics && flags.bootstrap) usageError(program, "--bootstrap reads from a broker: add --from-topics");
    if (!raw.fromTopics && raw.crossCheck)
      usageError(program, "--cross-check reads the topics a second time: add --from-topics");
    let connection;
    if (raw.fromTopics) {
      const bootstrap = flags.bootstrap ?? (await storedBootstrap(runDir));
      if (!bootstrap)
        throw new InputError(`${runDir}: no bootstrap in result.json or history.ndjson; give --bootstrap`);
      connection = connectionFromFlags({ ...flags, bootstrap });
    }
    const progress = new Progress(process.stderr, !raw.progress);
    const out = await runCheck({
      runDir,
      fromTopics: raw.fromTopics === true,
      connection,
      progress,
      crossCheck: raw.crossCheck === true,
    });
    process.stdout.write(`\n${out.summary}\n\nwritten: ${out.file}\n`);
    process.exit(out.exitCode);
  } catch (e) {
    exitOnError(program, e);
  }
});

await parseOrExit(program);
