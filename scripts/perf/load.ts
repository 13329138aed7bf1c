// perf:load — the kafka driver alone (no SUT, orders only): at each offered open-loop rate, the rate
// it achieves (acked/s), and send delay (actual − intended send) and ack latency (ack − actual send).
// Writes reports/perf/load.json and load.md.
// Usage: npm run perf:load -- [--rates 500,2000,8000,20000,40000] [--seconds 5] [--bootstrap h:p]
import { randomBytes } from "node:crypto";
import { LatencyRecorder } from "../../harness/checker/latency.ts";
import { startKafkaLoad } from "../../harness/load/kafka-driver.ts";
import { createContractTopics } from "../../harness/run/kafka.ts";
import { BUILTIN_SCENARIOS, generateStream, validateScenario } from "../../harness/scenario/index.ts";
import { flagValue, isMain, machine, mdTable, msOf, numberList, perfCluster, writePerf } from "./common.ts";

export interface LoadRow {
  offeredPerSec: number;
  orders: number;
  acked: number;
  errors: number;
  /** acked / (last ack − first intended send). */
  ackedPerSec: number;
  maxSendDelayMs: number;
  sendDelayUs: ReturnType<LatencyRecorder["summary"]>;
  ackUs: ReturnType<LatencyRecorder["summary"]>;
}

export async function perfLoad(argv: string[]): Promise<string[]> {
  const rates = numberList(flagValue(argv, "rates"), [500, 2000, 8000, 20000, 40000]);
  const seconds = Number(flagValue(argv, "seconds") ?? 5);
  const cluster = await perfCluster(argv, "load");
  const rows: LoadRow[] = [];
  try {
    for (const rate of rates) {
      const ns = `oversell.perf-load-${randomBytes(3).toString("hex")}.r${rate}`;
      await createContractTopics(cluster.connection, ns, 4, 1);
      const scenario = validateScenario({
        ...BUILTIN_SCENARIOS.steady,
        timing: { kind: "rate", ratePerSec: rate, durationMs: seconds * 1000 },
      });
      const stream = generateStream(scenario, 1);
      const sendDelay = new LatencyRecorder();
      const ack = new LatencyRecorder();
      const sentAt = new Map<number, number>();
      let lastAck = 0;
      const t0 = Date.now() + 300;
      const load = await startKafkaLoad({
        connection: cluster.connection,
        ns,
        orders: stream.orders,
        t0,
        onSent: (o, intended, at) => {
          sendDelay.recordMs(at - intended);
          sentAt.set(o.seq, at);
        },
        onAck: (o, a) => {
          ack.recordMs(a.ackAtMs - (sentAt.get(o.seq) ?? a.ackAtMs));
          sentAt.delete(o.seq);
          lastAck = Math.max(lastAck, a.ackAtMs);
        },
      });
      const s = await load.done;
      const row: LoadRow = {
        offeredPerSec: rate,
        orders: stream.orders.length,
        acked: s.acked,
        errors: s.failed + s.unknown,
        ackedPerSec: Math.round(s.acked / Math.max(0.001, (lastAck - t0) / 1000)),
        maxSendDelayMs: s.maxSendDelayMs,
        sendDelayUs: sendDelay.summary(),
        ackUs: ack.summary(),
      };
      rows.push(row);
      console.error(
        `offered ${rate}/s: acked ${row.acked}/${row.orders} at ${row.ackedPerSec}/s; send delay p99 ` +
          `${msOf(row.sendDelayUs.p99)} ms; ack p50/p99 ${msOf(row.ackUs.p50)}/${msOf(row.ackUs.p99)} ms`,
      );
    }
  } finally {
    await cluster.stop();
  }
  const md = [
    "# perf:load — kafka driver, no SUT",
    "",
    `${cluster.description}; ${seconds} s per rate; 4 partitions; ` +
      `acks=all, idempotent producer; ${JSON.stringify(machine())}`,
    "",
    mdTable(
      [
        "offered/s",
        "orders",
        "acked",
        "errors",
        "acked/s",
        "send delay p50 ms",
        "p99",
        "p99.9",
        "max",
        "ack p50 ms",
        "p99",
        "p99.9",
        "max",
      ],
      rows.map((r) => [
        r.offeredPerSec,
        r.orders,
        r.acked,
        r.errors,
        r.ackedPerSec,
        msOf(r.sendDelayUs.p50),
        msOf(r.sendDelayUs.p99),
        msOf(r.sendDelayUs.p999),
        msOf(r.sendDelayUs.max),
        msOf(r.ackUs.p50),
        msOf(r.ackUs.p99),
        msOf(r.ackUs.p999),
        msOf(r.ackUs.max),
      ]),
    ),
  ].join("\n");
  return writePerf(
    "load",
    { kind: "perf:load", cluster: cluster.description, secondsPerRate: seconds, machine: machine(), rows },
    md,
  );
}

if (isMain(import.meta.url)) {
  const files = await perfLoad(process.argv.slice(2));
  console.log(`written: ${files.join(", ")}`);
}
