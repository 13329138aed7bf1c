// perf:instrument — is oversell's own instrument ever the limit? Three figures against Kafka's own tools on
// the same broker (issue 11): load (our kafka driver vs ProducerPerformance, acked records/s, same record size),
// reader (the whole `check` command vs ConsumerPerformance read_committed on a bench run's decisions topic,
// decisions/s) and memory (peak RSS growth of `bench` per order, from a small to a large steady run).
// Writes reports/perf/instrument.json and instrument.md. A benchmark, not a test: figures, no pass/fail exit.
// Usage: npm run perf:instrument -- [--quick] [--bootstrap h:p] [--reps 3] [--skip load,reader,memory] [--producers N]
import { DEFAULT_KAFKA_VERSION, ensureKafkaToolsJars } from "../../harness/cluster/jars.ts";
import { flagValue, hasFlag, isMain, machine, mdTable, perfCluster, writePerf } from "./common.ts";
import { log } from "./kafka-tools.ts";
import { measureLoad, type LoadFigures } from "./instrument-load.ts";
import { measureMemory, measureReader, type MemoryFigures, type ReaderFigures } from "./instrument-bench.ts";

export const GOALS = { loadRatio: 0.8, readerRatio: 0.5, bytesPerOrder: 200 } as const;

export interface InstrumentReport {
  kind: "perf:instrument";
  cluster: string;
  quick: boolean;
  goals: typeof GOALS;
  load?: LoadFigures;
  reader?: ReaderFigures;
  memory?: MemoryFigures;
  machine: Record<string, unknown>;
}

export async function perfInstrument(argv: string[]): Promise<string[]> {
  const quick = hasFlag(argv, "quick");
  const reps = Number(flagValue(argv, "reps") ?? (quick ? 1 : 3));
  const skip = new Set((flagValue(argv, "skip") ?? "").split(",").filter(Boolean));
  const toolsDir = await ensureKafkaToolsJars(flagValue(argv, "kafka-version") ?? DEFAULT_KAFKA_VERSION, log);
  const cluster = await perfCluster(argv, "instrument");
  log(`cluster: ${cluster.description}; tools: ${toolsDir}; ${quick ? "quick" : "full"} mode, ${reps} repetition(s)`);
  const report: InstrumentReport = {
    kind: "perf:instrument",
    cluster: cluster.description,
    quick,
    goals: GOALS,
    machine: machine(),
  };
  try {
    if (!skip.has("load"))
      report.load = await measureLoad({
        connection: cluster.connection,
        toolsDir,
        quick,
        reps,
        producers: flagValue(argv, "producers") === undefined ? undefined : Number(flagValue(argv, "producers")),
      });
    if (!skip.has("reader"))
      report.reader = await measureReader({ connection: cluster.connection, toolsDir, quick, reps });
    if (!skip.has("memory")) report.memory = await measureMemory({ connection: cluster.connection, quick });
  } finally {
    await cluster.stop();
  }
  const md = renderMarkdown(report);
  console.log(md);
  return writePerf("instrument", report, md);
}

const verdict = (ok: boolean) => (ok ? "meets the goal" : "**misses the goal**");

function renderMarkdown(r: InstrumentReport): string {
  const rows: (string | number)[][] = [];
  if (r.load) {
    rows.push([
      "load: kafka driver vs ProducerPerformance (acked records/s, " + `${r.load.recordBytes} B, acks=all, idempotent)`,
      Math.round(r.load.oursPerSec),
      Math.round(r.load.kafkaPerSec),
      r.load.ratio.toFixed(2),
      `≥ ${GOALS.loadRatio}`,
      verdict(r.load.ratio >= GOALS.loadRatio),
    ]);
  }
  if (r.reader) {
    rows.push([
      `reader: \`${r.reader.command}\` vs ConsumerPerformance ` +
        `read_committed, both whole commands (decisions/s, ${r.reader.decisions} decisions)`,
      Math.round(r.reader.oursPerSec),
      Math.round(r.reader.kafkaPerSec),
      r.reader.ratio.toFixed(2),
      `≥ ${GOALS.readerRatio}`,
      verdict(r.reader.ratio >= GOALS.readerRatio),
    ]);
  }
  if (r.memory) {
    const m = r.memory;
    rows.push([
      `memory: bench peak RSS growth per order, ${m.small.orders} → ${m.large.orders} orders (naive, steady)`,
      `${Math.round(m.bytesPerOrder)} B/order`,
      "—",
      "—",
      `≤ ${GOALS.bytesPerOrder} B`,
      verdict(m.bytesPerOrder <= GOALS.bytesPerOrder),
    ]);
  }
  const details = [
    r.load
      ? `- load runs (ours / ProducerPerformance, records/s): ` +
        r.load.runs.map((x) => `${Math.round(x.ours)} / ${Math.round(x.kafka)} (load ${x.loadAvg})`).join("; ") +
        `; driver harness-bound: ${r.load.harnessBound ? `yes (${r.load.harnessBoundReason})` : "no"}; ` +
        `${r.load.producers} producer worker(s)`
      : "",
    r.reader
      ? `- reader runs (check s / ConsumerPerformance s as a command / its own time s): ` +
        r.reader.runs
          .map(
            (x) =>
              `${x.oursSec.toFixed(2)} / ${x.kafkaSec.toFixed(2)} / ${x.kafkaOwnSec.toFixed(2)} (load ${x.loadAvg})`,
          )
          .join("; ") +
        `; ratio against its own time (JVM start-up excluded): ${r.reader.ratioOwnTime.toFixed(2)}; ${r.reader.mode}`
      : "",
    r.memory
      ? `- memory: peak RSS ${(r.memory.small.peakRssBytes / 2 ** 20).toFixed(0)} ` +
        `MiB at ${r.memory.small.orders} orders, ` +
        `${(r.memory.large.peakRssBytes / 2 ** 20).toFixed(0)} MiB at ` +
        `${r.memory.large.orders} orders (rate ${r.memory.ratePerSec}/s; ` +
        `bench ${r.memory.small.seconds.toFixed(0)} s / ${r.memory.large.seconds.toFixed(0)} s; ` +
        `load ${r.memory.small.loadAvg} / ${r.memory.large.loadAvg})`
      : "",
  ].filter(Boolean);
  return [
    "# perf:instrument — oversell's instrument vs Kafka's own tools, same broker",
    "",
    `${r.cluster}; ${r.quick ? "quick mode (small N: a smoke run, not the figures)" : "full mode"}; ` +
      `medians; ${JSON.stringify(r.machine)}`,
    "",
    mdTable(["what", "oversell", "Kafka tool", "ratio", "goal", ""], rows),
    "",
    ...details,
  ].join("\n");
}

if (isMain(import.meta.url)) {
  const files = await perfInstrument(process.argv.slice(2));
  console.log(`written: ${files.join(", ")}`);
}
