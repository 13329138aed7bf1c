// Shared bits of the perf scripts: flags, machine context, writing reports/perf/<name>.json + .md,
// and a cluster for the scripts that need one (an external --bootstrap, or an embedded one).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";

export const PERF_DIR = join("reports", "perf");

/** `--name value` from argv (the last one wins), or the default. */
export function flagValue(argv: string[], name: string): string | undefined {
  const i = argv.lastIndexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function hasFlag(argv: string[], name: string): boolean {
  return argv.includes(`--${name}`);
}

export function numberList(text: string | undefined, fallback: number[]): number[] {
  if (!text) return fallback;
  const xs = text.split(",").map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`not a list of positive numbers: ${text}`);
  return xs;
}

/** The context a figure needs to be read honestly (the machine is shared: the load average says how busy). */
export function machine(): Record<string, unknown> {
  const [l1, l5] = loadavg();
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAvg1m: Number(l1!.toFixed(2)),
    loadAvg5m: Number(l5!.toFixed(2)),
    at: new Date().toISOString(),
  };
}

/** Writes reports/perf/<name>.json (and .md when given); returns the paths written. */
export function writePerf(name: string, json: unknown, md?: string): string[] {
  mkdirSync(PERF_DIR, { recursive: true });
  const files = [join(PERF_DIR, `${name}.json`)];
  writeFileSync(files[0]!, JSON.stringify(json, null, 2) + "\n");
  if (md !== undefined) {
    files.push(join(PERF_DIR, `${name}.md`));
    writeFileSync(files[1]!, md.endsWith("\n") ? md : md + "\n");
  }
  return files.map((f) => relative(process.cwd(), f) || f);
}

export function mdTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const msOf = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);

/** True when the module is the script node was started with (not imported by scripts/perf/all.ts). */
export function isMain(metaUrl: string): boolean {
  return !!process.argv[1] && pathToFileURL(process.argv[1]).href === metaUrl;
}

export interface PerfCluster {
  connection: Connection;
  description: string;
  stop(): Promise<void>;
}

/** --bootstrap h:p,... or a fresh embedded single-node cluster (its log under reports/perf/). */
export async function perfCluster(argv: string[], label: string): Promise<PerfCluster> {
  const bootstrap = flagValue(argv, "bootstrap");
  if (bootstrap)
    return {
      connection: { brokers: bootstrap.split(",") },
      description: `external ${bootstrap}`,
      stop: async () => {},
    };
  mkdirSync(PERF_DIR, { recursive: true });
  const cluster = await EmbeddedCluster.start({ brokers: 1, logFile: join(PERF_DIR, `${label}-kafka.log`) });
  return {
    connection: cluster.connection,
    description: `embedded Kafka ${cluster.kafkaVersion}, 1 node`,
    stop: () => cluster.stop(),
  };
}
