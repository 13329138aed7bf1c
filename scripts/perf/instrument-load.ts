// perf:instrument, load: our kafka driver vs Kafka's ProducerPerformance on the same broker, at the orders'
// encoded value size, acks=all, idempotent, 4 partitions; then the driver open loop at the goal rate.
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { DEFAULT_PRODUCERS, startKafkaLoad } from "../../harness/load/kafka-driver.ts";
import { createContractTopics } from "../../harness/run/kafka.ts";
import { MAX_RATE_PER_SEC } from "../../harness/scenario/schema.ts";
import { producerPerformance } from "../../harness/kafka/tools.ts";
import {
  BUILTIN_SCENARIOS,
  generateStream,
  meanOrderValueBytes,
  validateScenario,
} from "../../harness/scenario/index.ts";
import { freshNs, loadAvgText, log, median } from "./kafka-tools.ts";

const PARTITIONS = 4;

export interface LoadFigures {
  recordBytes: number;
  records: number;
  producers: number;
  /** loadAvg: the 1/5/15-min load averages when the pair ended (shared machine). */
  runs: { ours: number; kafka: number; loadAvg: string }[];
  oursPerSec: number;
  kafkaPerSec: number;
  ratio: number;
  /** The fastest runs are harness-bound by construction (everything is due at once): the reason says how far behind. */
  harnessBound: boolean;
  harnessBoundReason?: string;
  /** The driver open loop at the goal share of ProducerPerformance's rate: does it keep the schedule? */
  atGoalRate?: {
    offeredPerSec: number;
    ackedPerSec: number;
    harnessBound: boolean;
    sendDelayP99Ms?: number;
    queueDelayP99Ms?: number;
  };
}

interface Ctx {
  connection: Connection;
  toolsDir: string;
  quick: boolean;
  reps: number;
  /** Producer workers of the driver (default DEFAULT_PRODUCERS). */
  producers?: number;
}

function steadyAt(ratePerSec: number, durationMs: number) {
  return generateStream(
    validateScenario({ ...BUILTIN_SCENARIOS.steady, timing: { kind: "rate", ratePerSec, durationMs } }),
    1,
  );
}

/** ProducerPerformance's records/s on a fresh topic of the contract's partition count. */
async function kafkaProducer(ctx: Ctx, records: number, recordBytes: number): Promise<number> {
  const ns = freshNs("pp");
  await createContractTopics(ctx.connection, ns, PARTITIONS, 1);
  const r = await producerPerformance({
    connection: ctx.connection,
    toolsDir: ctx.toolsDir,
    topic: topicsFor(ns).orders,
    records,
    recordBytes,
  });
  return r.recordsPerSec;
}

/** Runs the driver over a steady stream; acked/s from the first actual send to the last ack. */
async function driver(ctx: Ctx, ratePerSec: number, durationMs: number) {
  const ns = freshNs("driver");
  await createContractTopics(ctx.connection, ns, PARTITIONS, 1);
  const stream = steadyAt(ratePerSec, durationMs);
  let firstSent = Infinity;
  let lastAck = 0;
  const load = await startKafkaLoad({
    connection: ctx.connection,
    ns,
    orders: stream.orders,
    producers: ctx.producers,
    // Past the producer workers' start-up (connect, producer id), so the first orders are not a catch-up burst
    // (that burst shortened the first-send-to-last-ack span and inflated the goal-rate figure past the offer).
    t0: Date.now() + 3000,
    onSent: (_o, _intended, at) => void (at < firstSent && (firstSent = at)),
    onAck: (_o, a) => void (a.ackAtMs > lastAck && (lastAck = a.ackAtMs)),
  });
  const s = await load.done;
  if (s.acked !== stream.orders.length)
    log(`driver: only ${s.acked}/${stream.orders.length} acked (${s.failed} failed, ${s.unknown} unknown)`);
  return { stats: s, ackedPerSec: s.acked / Math.max(0.001, (lastAck - firstSent) / 1000) };
}

export async function measureLoad(ctx: Ctx): Promise<LoadFigures> {
  const recordBytes = meanOrderValueBytes(steadyAt(1000, 2000));
  const records = ctx.quick ? 100_000 : 500_000;
  const runs: LoadFigures["runs"] = [];
  let last: Awaited<ReturnType<typeof driver>> | undefined;
  for (let rep = 1; rep <= ctx.reps; rep++) {
    const kafka = await kafkaProducer(ctx, records, recordBytes);
    log(`load ${rep}/${ctx.reps}: ProducerPerformance ${Math.round(kafka)} records/s (${records} × ${recordBytes} B)`);
    // Everything due at once (the schema's top rate): the driver's ceiling.
    last = await driver(ctx, MAX_RATE_PER_SEC, Math.ceil((records * 1000) / MAX_RATE_PER_SEC));
    log(
      `load ${rep}/${ctx.reps}: kafka driver ${Math.round(last.ackedPerSec)} ` +
        `acked orders/s → ratio ${(last.ackedPerSec / kafka).toFixed(2)}`,
    );
    runs.push({ ours: last.ackedPerSec, kafka, loadAvg: loadAvgText() });
  }
  const oursPerSec = median(runs.map((r) => r.ours));
  const kafkaPerSec = median(runs.map((r) => r.kafka));
  const figures: LoadFigures = {
    recordBytes,
    records,
    producers: ctx.producers ?? DEFAULT_PRODUCERS,
    runs,
    oursPerSec,
    kafkaPerSec,
    // Each run is paired with the Kafka run just before it (the shared machine's load drifts between pairs).
    ratio: median(runs.map((r) => r.ours / r.kafka)),
    harnessBound: last!.stats.harnessBound,
    harnessBoundReason: last!.stats.harnessBoundReason,
  };
  const offered = Math.min(MAX_RATE_PER_SEC, Math.round(0.8 * kafkaPerSec));
  const seconds = ctx.quick ? 2 : 5;
  const g = await driver(ctx, offered, seconds * 1000);
  figures.atGoalRate = {
    offeredPerSec: offered,
    ackedPerSec: Math.round(g.ackedPerSec),
    harnessBound: g.stats.harnessBound,
    sendDelayP99Ms: g.stats.sendDelayP99Ms,
    queueDelayP99Ms: g.stats.queueDelayP99Ms,
  };
  log(
    `load at ${offered}/s for ${seconds} s: acked ${Math.round(g.ackedPerSec)}/s, ` +
      `harness-bound ${g.stats.harnessBound ? `yes (${g.stats.harnessBoundReason})` : "no"}`,
  );
  return figures;
}
