// The kafka driver: produces the order stream straight to <ns>.orders (key orderId) on the open-loop
// schedule. The main thread keeps the clock, stamps and encodes each due order, and hands the records to a
// pool of producer workers (producer-pool.ts); nothing waits for the SUT or for an earlier ack.
import { kafkaClient } from "../kafka/client.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { orderValue } from "../scenario/generate.ts";
import { HarnessLag } from "./harness-bound.ts";
import { partitionCount, partitionFor } from "./produce.ts";
import type { FromWorker } from "./producer-protocol.ts";
import { ProducerPool } from "./producer-pool.ts";
import { runScheduleRange } from "./schedule.ts";
import { emptyStats, startTime, type LoadHandle, type LoadOptions, type LoadStats } from "./types.ts";

/** Values this large go alone: two of them in one batch would pass the broker's size limit. */
const ALONE_BYTES = 256 * 1024;
/** Producer workers unless told: one per core of a 2-core box (not yet compared with 1 or 4 on a quiet machine). */
export const DEFAULT_PRODUCERS = 2;

/** Per order: 0 not sent, 1 sent (no outcome yet), 2 timed out (a late ack still counts), 3 settled. */
const SENT = 1,
  TIMED_OUT = 2,
  SETTLED = 3;

export async function startKafkaLoad(opts: LoadOptions): Promise<LoadHandle> {
  const topic = topicsFor(opts.ns).orders;
  const partitions = await countPartitions(opts, topic);
  const orders = opts.orders;
  const ledger = new Ledger(opts);
  const workers = Math.max(1, Math.min(opts.producers ?? DEFAULT_PRODUCERS, partitions));
  const pool = await ProducerPool.start({
    connection: opts.connection,
    clientId: "oversell-load",
    topic,
    ackTimeoutMs: opts.ackTimeoutMs ?? 30_000,
    workers,
    onMessage: (m) => ledger.onMessage(m, lag),
  });
  const lag = new HarnessLag(Date.now());
  const t0 = startTime(opts.t0);

  /** Stamps, encodes and hands over the orders due now, [from, to). */
  const fire = (from: number, to: number, nowMs: number) => {
    for (let i = from; i < to; i++) {
      const o = orders.at(i)!;
      const intended = t0 + o.offsetMs;
      lag.sent(nowMs - intended, intended);
      opts.onSent?.(o, intended, nowMs);
      const value = orderValue(o, nowMs);
      const p = partitionFor(topic, o.key, partitions);
      if (value.length >= ALONE_BYTES) pool.addAlone(i, p, o.key, value);
      else pool.add(i, p, o.key, value);
      ledger.state[i] = SENT;
    }
    const stats = ledger.stats;
    stats.sent += to - from;
    stats.pending += to - from;
    stats.maxSendDelayMs = Math.max(stats.maxSendDelayMs, lag.maxSendDelayMs);
    pool.flush();
  };

  const done = (async () => {
    try {
      await runScheduleRange({
        count: orders.length,
        offsetAt: (i) => orders.at(i)!.offsetMs,
        t0,
        aborted: () => ledger.aborted,
        fire,
      });
    } finally {
      await pool.close();
    }
    ledger.settleLeftovers(ledger.fatal ?? "the producer stopped before an outcome");
    Object.assign(ledger.stats, lag.verdict(ledger.stats));
    return ledger.stats;
  })();
  return { t0, stats: ledger.stats, done, abort: () => void (ledger.aborted = true) };
}

/** Each order's outcome as one byte and the running counts (no per-order objects); workers' messages settle them. */
class Ledger {
  readonly stats: LoadStats;
  readonly state: Uint8Array;
  /** A worker could not go on: the load stops and what it sent without an answer is unknown. */
  fatal: string | undefined;
  aborted = false;

  constructor(private readonly opts: LoadOptions) {
    this.stats = emptyStats(opts.orders.length);
    this.state = new Uint8Array(opts.orders.length);
  }

  onMessage(m: FromWorker, lag: HarnessLag): void {
    switch (m.type) {
      case "queued":
        for (let j = 0; j < m.delayMs.length; j++) lag.queued(m.delayMs[j]!, m.count[j]!);
        break;
      case "closed":
        lag.workerBusy(m.busy);
        break;
      case "ack":
        this.acked(m);
        break;
      case "error":
      case "timeout":
        this.failed(m);
        break;
      case "fatal":
        this.fatal ??= m.error;
        this.aborted = true;
        break;
      default:
        break;
    }
  }

  /** A late ack (after its timeout) still counts: the order moves from unknown to acked. */
  private acked(m: Extract<FromWorker, { type: "ack" }>): void {
    const { state, stats, opts } = this;
    for (let j = 0; j < m.idx.length; j++) {
      const i = m.idx[j]!;
      if (state[i] === SETTLED) continue;
      if (state[i] === TIMED_OUT) stats.unknown--;
      else stats.pending--;
      state[i] = SETTLED;
      stats.acked++;
      const offset = m.offset[j]!;
      opts.onAck?.(opts.orders.at(i)!, { partition: m.part[j]!, offset: String(offset), ackAtMs: m.ackAtMs });
    }
  }

  private failed(m: Extract<FromWorker, { type: "error" | "timeout" }>): void {
    const { state, stats, opts } = this;
    for (let j = 0; j < m.idx.length; j++) {
      const i = m.idx[j]!;
      if (state[i] !== SENT) continue;
      const status = m.type === "error" ? m.status : "unknown";
      state[i] = m.type === "timeout" ? TIMED_OUT : SETTLED;
      stats.pending--;
      if (status === "failed") stats.failed++;
      else stats.unknown++;
      opts.onError?.(opts.orders.at(i)!, { status, error: m.error, atMs: m.atMs });
    }
  }

  /** Sends a dead worker never answered for: their outcome is unknown. */
  settleLeftovers(error: string): void {
    const { state, stats, opts } = this;
    if (stats.pending === 0) return;
    const atMs = Date.now();
    for (let i = 0; i < state.length; i++) {
      if (state[i] !== SENT) continue;
      state[i] = SETTLED;
      stats.pending--;
      stats.unknown++;
      opts.onError?.(opts.orders.at(i)!, { status: "unknown", error, atMs });
    }
  }
}

async function countPartitions(opts: LoadOptions, topic: string): Promise<number> {
  const admin = kafkaClient(opts.connection, "oversell-load").admin();
  await admin.connect();
  try {
    return await partitionCount(admin, topic);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
