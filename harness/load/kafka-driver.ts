// The kafka driver: produces the order stream straight to <ns>.orders (key orderId) on the open-loop
// schedule. Due orders go out as one batch; nothing waits for the SUT or for an earlier ack.
import kafkajs from "kafkajs";
import { kafkaJsConfig } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { orderValue, type GeneratedOrder } from "../scenario/generate.ts";
import { classifySendError, idempotentProducer, partitionCount, sendBatch, type Placed } from "./produce.ts";
import { runSchedule } from "./schedule.ts";
import { emptyStats, type LoadHandle, type LoadOptions, type LoadStats } from "./types.ts";

const { Kafka, logLevel } = kafkajs;

/** Values this large go alone: two of them in one batch would pass the broker's size limit. */
const ALONE_BYTES = 256 * 1024;

export async function startKafkaLoad(opts: LoadOptions): Promise<LoadHandle> {
  const topic = topicsFor(opts.ns).orders;
  const kafka = new Kafka(kafkaJsConfig(opts.connection, "oversell-load", { logLevel: logLevel.NOTHING, connectionTimeout: 5000, requestTimeout: 30_000 }));
  const admin = kafka.admin();
  await admin.connect();
  let partitions: number;
  try {
    partitions = await partitionCount(admin, topic);
  } finally {
    await admin.disconnect().catch(() => {});
  }
  const producer = idempotentProducer(kafka);
  await producer.connect();

  const stats: LoadStats = emptyStats(opts.orders.length);
  const ackTimeoutMs = opts.ackTimeoutMs ?? 30_000;
  const inflight = new Set<Promise<void>>();
  let aborted = false;

  const sendGroup = (group: GeneratedOrder[], nowMs: number) => {
    const records = group.map((o) => {
      const intended = opts.t0 + o.offsetMs;
      stats.maxSendDelayMs = Math.max(stats.maxSendDelayMs, nowMs - intended);
      opts.onSent?.(o, intended, nowMs);
      return { key: o.key, value: orderValue(o, nowMs) };
    });
    stats.sent += group.length;
    stats.pending += group.length;
    // One outcome per order: the first of ack, error or our own timeout (a later ack is still recorded).
    const settled = new Array<boolean>(group.length).fill(false);
    const outcome = (i: number, f: () => void) => {
      if (!settled[i]) {
        settled[i] = true;
        stats.pending--;
      }
      f();
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        const atMs = Date.now();
        group.forEach((o, i) => {
          if (settled[i]) return;
          outcome(i, () => {
            stats.unknown++;
            opts.onError?.(o, { status: "unknown", error: `no acknowledgement within ${ackTimeoutMs} ms`, atMs });
          });
        });
        resolve();
      }, ackTimeoutMs);
    });
    const send = sendBatch(producer, topic, partitions, records, ackTimeoutMs).then(
      (placed: Placed[]) => {
        const ackAtMs = Date.now();
        group.forEach((o, i) => {
          const late = settled[i];
          outcome(i, () => {
            if (late) stats.unknown--;
            stats.acked++;
            opts.onAck?.(o, { ...placed[i]!, ackAtMs });
          });
        });
      },
      (e: unknown) => {
        const { status, error } = classifySendError(e);
        const atMs = Date.now();
        group.forEach((o, i) => {
          if (settled[i]) return;
          outcome(i, () => {
            if (status === "failed") stats.failed++;
            else stats.unknown++;
            opts.onError?.(o, { status, error, atMs });
          });
        });
      },
    );
    const p = Promise.race([send, timeout]).finally(() => {
      clearTimeout(timer);
      inflight.delete(p);
    });
    inflight.add(p);
  };

  const done = (async () => {
    try {
      await runSchedule({
        items: opts.orders,
        t0: opts.t0,
        aborted: () => aborted,
        fire: (due, nowMs) => {
          const small: GeneratedOrder[] = [];
          for (const o of due) {
            if (((o.body?.padding as string | undefined)?.length ?? 0) >= ALONE_BYTES) sendGroup([o], nowMs);
            else small.push(o);
          }
          if (small.length > 0) sendGroup(small, nowMs);
        },
      });
      while (inflight.size > 0) await Promise.all([...inflight]);
      return stats;
    } finally {
      await producer.disconnect().catch(() => {});
    }
  })();
  return { stats, done, abort: () => void (aborted = true) };
}
