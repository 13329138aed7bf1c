// Kafka's own command-line tools (ProducerPerformance, ConsumerPerformance) from the cached kafka-tools jars:
// the yardstick oversell's figures are drawn against, on the same broker. Used by `capacity` (the ceiling)
// and by perf:instrument. Output goes to a log file like every child's (children.ts), read back at the end.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnChild } from "../process/children.ts";
import type { Connection } from "./connection.ts";

export interface ToolRun {
  output: string;
  /** Wall time, JVM start-up included. */
  seconds: number;
}

/** Runs a class of the kafka-tools jars (the folder holds the whole runtime classpath) to its end. */
export async function runKafkaTool(
  toolsDir: string,
  mainClass: string,
  args: string[],
  opts: { logFile?: string } = {},
): Promise<ToolRun> {
  const scratch = opts.logFile ? undefined : mkdtempSync(join(tmpdir(), "oversell-kafka-tool-"));
  const logFile = opts.logFile ?? join(scratch!, "tool.log");
  const start = performance.now();
  try {
    const child = spawnChild("java", ["-Xmx1g", "-cp", join(toolsDir, "*"), mainClass, ...args], { logFile });
    const code = await child.exited;
    const output = readFileSync(logFile, "utf8");
    if (code !== 0)
      throw new Error(`${mainClass} exited with ${code}:\n${output.trim().split("\n").slice(-15).join("\n")}`);
    return { output, seconds: (performance.now() - start) / 1000 };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** The tools take plain bootstrap servers; a secured cluster would need a client config (not supported yet). */
export function plainBootstrap(c: Connection): string {
  if (c.ssl?.enabled || c.sasl)
    throw new Error("Kafka's tools are run on a plaintext listener only (this connection uses TLS or SASL)");
  return c.brokers.join(",");
}

export interface ProducerPerfOptions {
  connection: Connection;
  toolsDir: string;
  topic: string;
  records: number;
  recordBytes: number;
  /** With a transactional id, ProducerPerformance commits a transaction every durationMs. */
  transaction?: { id: string; durationMs: number };
  logFile?: string;
}

export interface ProducerPerfFigures {
  recordsPerSec: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
}

/** ProducerPerformance at full speed, acks=all, idempotent: its final summary line. */
export async function producerPerformance(o: ProducerPerfOptions): Promise<ProducerPerfFigures> {
  const args = [
    "--topic",
    o.topic,
    "--num-records",
    String(o.records),
    "--record-size",
    String(o.recordBytes),
    "--throughput",
    "-1",
  ];
  if (o.transaction)
    args.push("--transactional-id", o.transaction.id, "--transaction-duration-ms", String(o.transaction.durationMs));
  args.push(
    "--producer-props",
    `bootstrap.servers=${plainBootstrap(o.connection)}`,
    "acks=all",
    "enable.idempotence=true",
  );
  const r = await runKafkaTool(o.toolsDir, "org.apache.kafka.tools.ProducerPerformance", args, { logFile: o.logFile });
  const figures = parseProducerPerformance(r.output);
  if (!figures) throw new Error(`ProducerPerformance printed no summary:\n${r.output.slice(-2000)}`);
  return { ...figures, seconds: r.seconds };
}

/** "N records sent, R records/sec (..), A ms avg latency, M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th". */
export function parseProducerPerformance(output: string): Omit<ProducerPerfFigures, "seconds"> | undefined {
  const re = new RegExp(
    String.raw`\d+ records sent, ([\d.]+) records/sec \([^)]*\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, ` +
      String.raw`(\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th`,
    "g",
  );
  const last = [...output.matchAll(re)].at(-1);
  if (!last) return undefined;
  return {
    recordsPerSec: Number(last[1]),
    avgLatencyMs: Number(last[2]),
    p50Ms: Number(last[3]),
    p99Ms: Number(last[4]),
  };
}
