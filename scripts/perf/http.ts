// perf:http — the closed-loop max-throughput mode of the http load path: autocannon hammers the order
// gateway (POST /orders → OrderPlaced on <ns>.orders, 202) with N connections for a duration, no SUT.
// Figures: requests/s and accepted/s, POST latency percentiles, errors. Writes reports/perf/http.json and http.md.
// Usage: npm run perf:http -- [--connections 1,16,64] [--duration 10s] [--bootstrap h:p]
import { randomBytes } from "node:crypto";
import { runClosedLoop, type ClosedLoopResult } from "../../harness/load/closed-loop.ts";
import { OrderGateway } from "../../harness/load/gateway.ts";
import { createContractTopics } from "../../harness/run/kafka.ts";
import { flagValue, isMain, machine, mdTable, numberList, perfCluster, writePerf } from "./common.ts";

/** "10s", "500ms" or a number of seconds. */
export function parseDurationSec(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) throw new Error(`--duration: a duration like 10s or 500ms, not ${text}`);
  const v = Number(m[1]) / (m[2] === "ms" ? 1000 : 1);
  if (v <= 0) throw new Error("--duration must be above 0");
  return v;
}

export async function perfHttp(argv: string[]): Promise<string[]> {
  const connections = numberList(flagValue(argv, "connections"), [1, 16, 64]);
  const durationSec = parseDurationSec(flagValue(argv, "duration"), 10);
  const cluster = await perfCluster(argv, "http");
  const rows: ClosedLoopResult[] = [];
  try {
    const ns = `oversell.perf-http-${randomBytes(3).toString("hex")}.gateway`;
    await createContractTopics(cluster.connection, ns, 4, 1);
    const gw = await OrderGateway.start({ connection: cluster.connection, ns, confirms: false });
    try {
      const products = Array.from({ length: 200 }, (_, i) => `p${i}`);
      for (const c of connections) {
        const r = await runClosedLoop({ url: gw.url, connections: c, durationSec, products });
        rows.push(r);
        console.error(
          `${c} connection(s): ${r.requestsPerSec} req/s (${r.acceptedPerSec} accepted/s), p50 ` +
            `${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
        );
      }
    } finally {
      await gw.close();
    }
  } finally {
    await cluster.stop();
  }
  const m = machine();
  const md = [
    "# perf:http — order gateway, closed loop (autocannon), no SUT",
    "",
    `${cluster.description}; ${durationSec} s per row; 4 partitions; the gateway ` +
      `batches POSTs arriving within 2 ms into one produce (acks=all); ${JSON.stringify(m)}`,
    "",
    mdTable(
      ["connections", "requests", "req/s", "accepted/s", "p50 ms", "p90", "p99", "p99.9", "max", "non-2xx", "errors"],
      rows.map((r) => [
        r.connections,
        r.requests,
        r.requestsPerSec,
        r.acceptedPerSec,
        r.latencyMs.p50,
        r.latencyMs.p90,
        r.latencyMs.p99,
        r.latencyMs.p999,
        r.latencyMs.max,
        r.non2xx,
        r.errors,
      ]),
    ),
    "",
    "Closed loop: each connection waits for its answer before the next request, so latency here hides queueing " +
      "(coordinated omission); use the open-loop http driver (`npm run bench -- --driver http`) for latency.",
  ].join("\n");
  return writePerf("http", { kind: "perf:http", cluster: cluster.description, durationSec, machine: m, rows }, md);
}

if (isMain(import.meta.url)) {
  const files = await perfHttp(process.argv.slice(2));
  console.log(`written: ${files.join(", ")}`);
}
