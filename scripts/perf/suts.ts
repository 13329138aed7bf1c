// perf:suts — each SUT's decision latency (checker-side: first committed terminal decision − intended
// send, open loop) and decided throughput on the `steady` scenario at a few rates, via runBench in-process
// on one cluster. Writes reports/perf/suts.json and suts.md (suts-http.* with --driver http, which adds the
// client-side decision latency of the gateway long poll) (each bench run's folder under reports/perf/suts-runs/).
// Usage: npm run perf:suts -- [--rates 50,200] [--seconds 10] [--sut a,b] [--driver kafka|http] [--bootstrap h:p]
import { join } from "node:path";
import { newRunId, runBench } from "../../harness/run/bench.ts";
import { Progress } from "../../harness/run/progress.ts";
import { BUILTIN_SCENARIOS, validateScenario } from "../../harness/scenario/index.ts";
import { listSuts } from "../../harness/sut/manifest.ts";
import { flagValue, isMain, machine, mdTable, msOf, numberList, perfCluster, PERF_DIR, writePerf } from "./common.ts";

interface SutRow {
  sut: string;
  ratePerSec: number;
  driver: "kafka" | "http";
  verdict: string;
  orders: { sent: number; acked: number; decided: number };
  decisionUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  httpDecisionUs?: { p50: number; p99: number; p999: number; max: number };
  offeredPerSec: number;
  decidedPerSec: number;
  runDir: string;
}

export async function perfSuts(argv: string[]): Promise<string[]> {
  const rates = numberList(flagValue(argv, "rates"), [50, 200]);
  const seconds = Number(flagValue(argv, "seconds") ?? 10);
  const suts = flagValue(argv, "sut")?.split(",") ?? listSuts();
  const driver = (flagValue(argv, "driver") ?? "kafka") as "kafka" | "http";
  if (driver !== "kafka" && driver !== "http") throw new Error("--driver: kafka or http");
  const cluster = await perfCluster(argv, "suts");
  const rows: SutRow[] = [];
  try {
    for (const rate of rates) {
      const scenario = validateScenario({
        ...BUILTIN_SCENARIOS.steady,
        timing: { kind: "rate", ratePerSec: rate, durationMs: seconds * 1000 },
      });
      const runId = `perf-${newRunId()}-r${rate}`;
      console.error(`--- steady at ${rate}/s for ${seconds} s: ${suts.join(", ")} (${driver} driver)`);
      // The cluster is passed as an external one: one broker for every rate and SUT.
      const out = await runBench({
        suts,
        scenario,
        seed: 1,
        connection: cluster.connection,
        runId,
        driver,
        outDir: join(PERF_DIR, "suts-runs", runId),
        progress: new Progress(process.stderr, false, 10_000),
        command: `perf:suts steady ${rate}/s`,
      });
      for (const s of out.result.suts) {
        const d = s.latencyUs.decision;
        const h = s.latencyUs.httpDecision;
        rows.push({
          sut: s.name,
          ratePerSec: rate,
          driver,
          verdict: s.verdict,
          orders: { sent: s.orders.sent, acked: s.orders.acked, decided: s.orders.decided },
          decisionUs: { p50: d.p50, p90: d.p90, p99: d.p99, p999: d.p999, max: d.max },
          httpDecisionUs: h ? { p50: h.p50, p99: h.p99, p999: h.p999, max: h.max } : undefined,
          offeredPerSec: s.throughput.offeredPerSec,
          decidedPerSec: s.throughput.decidedPerSec,
          runDir: out.runDir,
        });
      }
    }
  } finally {
    await cluster.stop();
  }
  const m = machine();
  const http = rows.some((r) => r.httpDecisionUs);
  const md = [
    `# perf:suts — decision latency and throughput on \`steady\` (${driver} driver)`,
    "",
    `${cluster.description}; ${seconds} s of load per rate; each manifest's instance count; decision latency ` +
      `= first committed terminal decision seen by the checker − intended send (open loop); ${JSON.stringify(m)}`,
    "",
    mdTable(
      [
        "SUT",
        "rate/s",
        "verdict",
        "decided/sent",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "offered/s",
        "decided/s",
        ...(http ? ["http p50 ms", "http p99 ms"] : []),
      ],
      rows.map((r) => [
        r.sut,
        r.ratePerSec,
        r.verdict,
        `${r.orders.decided}/${r.orders.sent}`,
        msOf(r.decisionUs.p50),
        msOf(r.decisionUs.p99),
        msOf(r.decisionUs.p999),
        msOf(r.decisionUs.max),
        r.offeredPerSec.toFixed(1),
        r.decidedPerSec.toFixed(1),
        ...(http
          ? [r.httpDecisionUs ? msOf(r.httpDecisionUs.p50) : "-", r.httpDecisionUs ? msOf(r.httpDecisionUs.p99) : "-"]
          : []),
      ]),
    ),
  ].join("\n");
  return writePerf(
    driver === "http" ? "suts-http" : "suts",
    {
      kind: "perf:suts",
      scenario: "steady",
      secondsPerRate: seconds,
      driver,
      cluster: cluster.description,
      machine: m,
      rows,
    },
    md,
  );
}

if (isMain(import.meta.url)) {
  const files = await perfSuts(process.argv.slice(2));
  console.log(`written: ${files.join(", ")}`);
}
