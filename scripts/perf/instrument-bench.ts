// perf:instrument, reader and memory: both measure whole CLI commands as subprocesses (bench, check), so they
// hold before and after the checker's rework. Reader: `check` of a bench run vs ConsumerPerformance
// read_committed on that run's decisions topic. Memory: peak RSS (VmHWM) of the bench process, small vs large run.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { BUILTIN_SCENARIOS } from "../../harness/scenario/index.ts";
import { runKafkaTool } from "../../harness/kafka/tools.ts";
import { freshNs, loadAvgText, log, median, run } from "./kafka-tools.ts";

export interface ReaderFigures {
  command: string;
  /** Which reading the check command did: --from-topics, or today's default (it reads the topics). */
  mode: string;
  decisions: number;
  /**
   * kafkaSec: ConsumerPerformance as a whole command (JVM start-up included), like the check command it is
   * compared with; kafkaOwnSec: its own start→end time (group join and fetching, no JVM start-up).
   */
  runs: { oursSec: number; kafkaSec: number; kafkaOwnSec: number; loadAvg: string }[];
  oursPerSec: number;
  kafkaPerSec: number;
  /** Whole command vs whole command (the goal's measure). */
  ratio: number;
  /** The check command vs ConsumerPerformance's own time (stricter: our start-up against none of theirs). */
  ratioOwnTime: number;
}

export interface MemoryFigures {
  ratePerSec: number;
  small: { orders: number; peakRssBytes: number; seconds: number; loadAvg: string };
  large: { orders: number; peakRssBytes: number; seconds: number; loadAvg: string };
  bytesPerOrder: number;
}

interface Ctx {
  connection: Connection;
  quick: boolean;
}

const TSX = ["--import", "tsx"];
const bootstrap = (c: Connection) => ["--bootstrap", c.brokers.join(",")];

/** A bench of naive on steady (plenty of stock) at a rate for a count of orders; returns its folder and peak RSS. */
async function benchSteady(ctx: Ctx, ratePerSec: number, orders: number) {
  const dir = mkdtempSync(join(tmpdir(), "oversell-instrument-"));
  const scenarioFile = join(dir, "scenario.json");
  const durationMs = Math.ceil((orders * 1000) / ratePerSec);
  writeFileSync(
    scenarioFile,
    JSON.stringify({
      ...BUILTIN_SCENARIOS.steady,
      name: "instrument-steady",
      timing: { kind: "rate", ratePerSec, durationMs },
      drainTimeoutMs: 120_000,
    }),
  );
  const out = join(dir, "run");
  log(`bench: naive, steady at ${ratePerSec}/s for ${(durationMs / 1000).toFixed(0)} s (${orders} orders) ...`);
  const r = await run(
    process.execPath,
    [
      ...TSX,
      "harness/cli/bench.ts",
      "--sut",
      "naive",
      "--scenario",
      scenarioFile,
      ...bootstrap(ctx.connection),
      "--out",
      out,
      "--no-progress",
      "--run-id",
      freshNs("run").replace(/\./g, "-"),
    ],
    { watchRss: true },
  );
  let result: { suts: { namespace: string; orders: { decided: number } }[] };
  try {
    result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
  } catch {
    throw new Error(
      `bench wrote no result.json (exit ${r.code}):\n${r.output.trim().split("\n").slice(-20).join("\n")}`,
    );
  }
  const sut = result.suts[0]!;
  log(
    `bench: done in ${r.seconds.toFixed(0)} s, ${sut.orders.decided} ` +
      `decided, peak RSS ${((r.peakRssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
  );
  const peakRssBytes = r.peakRssBytes ?? 0;
  return {
    out,
    ns: sut.namespace,
    decided: sut.orders.decided,
    peakRssBytes,
    seconds: r.seconds,
    loadAvg: loadAvgText(),
  };
}

/** --from-topics once the checker reads offline by default; before that, check reads the topics anyway. */
async function checkArgs(): Promise<{ extra: string[]; mode: string }> {
  const help = await run(process.execPath, [...TSX, "harness/cli/check.ts", "--help"]);
  return help.output.includes("--from-topics")
    ? { extra: ["--from-topics"], mode: "check --from-topics (reads the broker)" }
    : { extra: [], mode: "check without --from-topics (not a flag yet: today's check reads the broker)" };
}

export async function measureReader(ctx: Ctx & { toolsDir: string; reps: number }): Promise<ReaderFigures> {
  const bench = await benchSteady(ctx, ctx.quick ? 2000 : 5000, ctx.quick ? 20_000 : 200_000);
  const { extra, mode } = await checkArgs();
  const consumerConfig = join(bench.out, "..", "consumer.properties");
  writeFileSync(consumerConfig, "isolation.level=read_committed\n");
  const runs: ReaderFigures["runs"] = [];
  for (let rep = 1; rep <= ctx.reps; rep++) {
    const kafka = await runKafkaTool(ctx.toolsDir, "org.apache.kafka.tools.ConsumerPerformance", [
      "--bootstrap-server",
      ctx.connection.brokers.join(","),
      "--topic",
      topicsFor(bench.ns).decisions,
      "--messages",
      String(bench.decided),
      "--consumer.config",
      consumerConfig,
      "--timeout",
      "60000",
    ]);
    const ours = await run(process.execPath, [
      ...TSX,
      "harness/cli/check.ts",
      bench.out,
      ...extra,
      ...bootstrap(ctx.connection),
      "--no-progress",
    ]);
    if (!/verdict/i.test(ours.output))
      log(`check printed no verdict (exit ${ours.code}): ${ours.output.trim().split("\n").slice(-5).join(" | ")}`);
    const kafkaOwnSec = consumerSeconds(kafka.output) ?? kafka.seconds;
    runs.push({ oursSec: ours.seconds, kafkaSec: kafka.seconds, kafkaOwnSec, loadAvg: loadAvgText() });
    log(
      `reader ${rep}/${ctx.reps}: check ${ours.seconds.toFixed(2)} s, ConsumerPerformance ` +
        `${kafka.seconds.toFixed(2)} s as a command (${kafkaOwnSec.toFixed(2)} s its own time; ` +
        `${bench.decided} decisions)`,
    );
  }
  const oursPerSec = median(runs.map((r) => bench.decided / r.oursSec));
  const kafkaPerSec = median(runs.map((r) => bench.decided / r.kafkaSec));
  return {
    command: `npm run check -- <run> ${extra.join(" ")}`.trim(),
    mode,
    decisions: bench.decided,
    runs,
    oursPerSec,
    kafkaPerSec,
    ratio: median(runs.map((r) => r.kafkaSec / r.oursSec)),
    ratioOwnTime: median(runs.map((r) => r.kafkaOwnSec / r.oursSec)),
  };
}

/**
 * ConsumerPerformance's own elapsed time (start.time to end.time, the CSV line after its header), without the
 * JVM's start-up; reported beside the whole-command ratio.
 */
function consumerSeconds(output: string): number | undefined {
  const lines = output.trim().split("\n");
  const h = lines.findIndex((l) => l.startsWith("start.time"));
  if (h < 0 || !lines[h + 1]) return undefined;
  const [start, end] = lines[h + 1]!.split(",").map((s) =>
    Date.parse(
      s
        .trim()
        .replace(" ", "T")
        .replace(/:(\d{3})$/, ".$1"),
    ),
  );
  return Number.isFinite(start) && Number.isFinite(end) && end! > start! ? (end! - start!) / 1000 : undefined;
}

export async function measureMemory(ctx: Ctx): Promise<MemoryFigures> {
  const ratePerSec = ctx.quick ? 4000 : 5000;
  const [smallN, largeN] = ctx.quick ? [20_000, 100_000] : [100_000, 1_000_000];
  const small = await benchSteady(ctx, ratePerSec, smallN);
  const large = await benchSteady(ctx, ratePerSec, largeN);
  const bytesPerOrder = (large.peakRssBytes - small.peakRssBytes) / (largeN - smallN);
  log(`memory: ${Math.round(bytesPerOrder)} B per order (${smallN} → ${largeN} orders)`);
  return {
    ratePerSec,
    small: { orders: smallN, peakRssBytes: small.peakRssBytes, seconds: small.seconds, loadAvg: small.loadAvg },
    large: { orders: largeN, peakRssBytes: large.peakRssBytes, seconds: large.seconds, loadAvg: large.loadAvg },
    bytesPerOrder,
  };
}
