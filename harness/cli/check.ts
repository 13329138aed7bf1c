// npm run check -- <run-dir> [--from-topics [--bootstrap h:p,...] [TLS/SASL flags]]
// npm run check -- --from-topics --bootstrap h:p,... --ns NS --sut NAME [--out DIR]
// Judges a stored run again: offline from the run folder (history.ndjson and the records of what the checker
// read), or with --from-topics from the topics a broker still holds. Writes <run-dir>/check.json
// (+ check.junit.xml) and leaves result.json as the run wrote it. With --ns instead of a run folder, a
// namespace loaded by anything (serve + k6, ...) is judged from its topics alone (run/check-topics.ts).
import { Command } from "commander";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { runCheck, storedBootstrap } from "../run/check.ts";
import { newRunId } from "../run/bench.ts";
import { checkFromTopics } from "../run/check-topics.ts";
import { Progress } from "../run/progress.ts";
import { InputError } from "../shared/zod-errors.ts";
import { addConnectionOptions, connectionFromFlags, parseOrExit, usageError, exitOnError } from "./options.ts";

const program = addConnectionOptions(
  new Command("check")
    .description("judge a stored run again from its run folder (no broker), or with --from-topics from a broker")
    .usage("<run-dir> [--from-topics [--bootstrap h:p,...]] | --from-topics --bootstrap h:p,... --ns NS --sut NAME")
    .argument("[run-dir]", "a run folder (reports/<runId>); leave out with --ns")
    .option("--from-topics", "read the decisions from the broker again (the topics must still be there)")
    .option("--cross-check", "with --from-topics: a second reader (Kafka's Java consumer) must agree on the decisions")
    .option("--ns <namespace>", "no run folder: judge this namespace from its topics alone (orders, stock, decisions)")
    .option("--sut <name|dir>", "with --ns: the SUT that served it (its claims and expected violations)")
    .option("--out <dir>", "with --ns: where result.json and report.html go (default reports/<runId>)")
    .option("--no-progress", "no progress line"),
).allowExcessArguments(false);

type Raw = Record<string, unknown> & {
  progress: boolean;
  fromTopics?: boolean;
  crossCheck?: boolean;
  ns?: string;
  sut?: string;
};

/** --ns: a namespace loaded by anything, judged from its topics (no run folder, no history). */
async function namespaceCheck(raw: Raw & { out?: string }): Promise<never> {
  if (!raw.fromTopics) usageError(program, "--ns judges a namespace from its topics: add --from-topics");
  if (!raw.sut) usageError(program, "--ns needs --sut NAME (the SUT whose claims are judged)");
  const flags = raw as Parameters<typeof connectionFromFlags>[0];
  if (!flags.bootstrap) usageError(program, "--ns needs --bootstrap (the cluster the namespace is on)");
  const connection = connectionFromFlags(flags)!;
  const runId = newRunId();
  const outcome = await checkFromTopics({
    connection,
    ns: raw.ns!,
    sut: raw.sut,
    outDir: raw.out ?? resolve("reports", runId),
    runId,
    progress: new Progress(process.stderr, !raw.progress),
    command: ["npm run check --", ...process.argv.slice(2)].join(" "),
  });
  const f = outcome.files;
  const html = f.html ? `, ${f.html}` : f.htmlError ? ` (report.html could not be written: ${f.htmlError})` : "";
  process.stdout.write(`\n${outcome.summary}\n\nwritten: ${f.result}${html}\n`);
  process.exit(outcome.exitCode);
}

program.action(async (runDir: string | undefined, raw: Raw & { out?: string }) => {
  try {
    if (raw.ns !== undefined) {
      if (runDir !== undefined) usageError(program, "give a run folder or --ns, not both");
      await namespaceCheck(raw);
    }
    if (raw.sut !== undefined || raw.out !== undefined) usageError(program, "--sut and --out go with --ns");
    if (runDir === undefined) usageError(program, "a run folder, or --from-topics --ns NS --sut NAME");
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
