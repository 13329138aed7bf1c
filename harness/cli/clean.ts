// npm run clean -- --bootstrap h:p,... (--older-than 1d | --run ID) [--dry-run]
// Deletes the topics of old run namespaces, and only those: oversell.<runId>.* .
import { Command } from "commander";
import { describeConnection } from "../kafka/connection.ts";
import { probeCluster, RUN_ID_PATTERN, runIdTime, runTopics, withAdmin } from "../run/kafka.ts";
import { InputError } from "../shared/zod-errors.ts";
import { addConnectionOptions, connectionFromFlags, parseOrExit, usageError, exitOnError } from "./options.ts";

const program = addConnectionOptions(
  new Command("clean")
    .description("delete the topics of old runs (oversell.<runId>.*) from a cluster")
    .usage("--bootstrap h:p,... (--older-than 1d | --run ID) [--dry-run]")
    .option("--older-than <age>", "runs older than this: 30m, 12h, 1d, 2w (run ids with a timestamp only)")
    .option("--run <id>", "one run")
    .option("--dry-run", "list what would be deleted"),
).allowExcessArguments(false);

function parseAge(text: string): number {
  const m = /^(\d+)(m|h|d|w)$/.exec(text);
  if (!m) throw new InputError(`--older-than "${text}": use e.g. 30m, 12h, 1d, 2w`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as "m" | "h" | "d" | "w"];
}

program.action(
  async (raw: Record<string, unknown> & { olderThan?: string; run?: string; dryRun?: boolean; bootstrap?: string }) => {
    try {
      if (!raw.bootstrap) usageError(program, "--bootstrap is required (the cluster to clean)");
      if (Boolean(raw.olderThan) === Boolean(raw.run))
        usageError(program, "give exactly one of --older-than and --run");
      if (raw.run && !RUN_ID_PATTERN.test(raw.run))
        usageError(program, `--run "${raw.run}": a run id has letters, digits, '_' and '-' only`);
      const cutoff = raw.olderThan ? Date.now() - parseAge(raw.olderThan) : undefined;
      const connection = connectionFromFlags(raw)!;
      await probeCluster(connection, 30_000);
      await withAdmin(connection, async (admin) => {
        const runs = runTopics(await admin.listTopics());
        const chosen: string[] = [];
        for (const [runId, topics] of runs) {
          if (raw.run ? runId === raw.run : (runIdTime(runId) ?? Infinity) < cutoff!) chosen.push(...topics);
        }
        chosen.sort();
        if (chosen.length === 0) {
          console.log(`nothing to delete on ${describeConnection(connection)}`);
          return;
        }
        for (const t of chosen) console.log(`${raw.dryRun ? "would delete" : "delete"} ${t}`);
        if (raw.dryRun) return;
        for (let i = 0; i < chosen.length; i += 100)
          await admin.deleteTopics({ topics: chosen.slice(i, i + 100), timeout: 30_000 });
        console.log(`deleted ${chosen.length} topic(s) of ${new Set(chosen.map((t) => t.split(".")[1])).size} run(s)`);
      });
      process.exit(0);
    } catch (e) {
      exitOnError(program, e);
    }
  },
);

await parseOrExit(program);
