// Cold start of the embedded cluster (jars cached): spawn to "every broker answers", N runs each.
// Writes reports/perf/cluster-start.json. Usage: npm run perf:cluster -- [--runs 5]
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars } from "../../harness/cluster/jars.ts";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 5) || 5;
const version = process.env.OVERSELL_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
await ensureKafkaJars(version, console.error);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result: Record<string, unknown> = {
  kafkaVersion: version,
  runs,
  cpus: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  at: new Date().toISOString(),
};
for (const brokers of [1, 3] as const) {
  const startMs: number[] = [];
  const stopMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const c = await EmbeddedCluster.start({ brokers });
    startMs.push(Math.round(performance.now() - t0));
    const t1 = performance.now();
    await c.stop();
    stopMs.push(Math.round(performance.now() - t1));
    console.error(`${brokers} node(s) run ${i + 1}/${runs}: start ${startMs.at(-1)} ms, stop ${stopMs.at(-1)} ms`);
  }
  result[`nodes${brokers}`] = { startMs, stopMs, medianStartMs: median(startMs), medianStopMs: median(stopMs) };
}
const out = join("reports", "perf");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "cluster-start.json"), JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
