// kafkajs 2.2.4 consumers were seen, after a partition leader was killed and came back, to rejoin
// their group and then receive no batch for an assigned partition for the rest of the run, with
// input waiting and no error logged (docs/FAILOVER.md). A service cannot wait for that to heal by
// itself, so this watches each assigned partition: when one has input past its committed offset
// and no batch came for `stallMs`, it logs the evidence and asks the owner to replace the consumer.
// Replacing it is safe for the exactly-once SUTs: the rebalance that follows makes every new
// partition owner fence the old one (transactional ids) and restart from the committed offset.
import type { Admin, Consumer } from "kafkajs";

export interface StallWatchOptions {
  admin: Admin;
  groupId: string;
  log: (msg: string) => void;
  /** No batch for this long while input waits: stalled. */
  stallMs: number;
  /**
   * Input written in transactions ends with a commit marker that takes an offset and is never
   * delivered, so a fully consumed partition lags by one: such topics count as waiting from 2.
   */
  transactionalInputs?: ReadonlySet<string>;
  /** Builds a new consumer in place of the stalled one. */
  replace: () => Promise<void>;
}

export interface StallWatch {
  /** Call with every new consumer (the first one and each replacement). */
  attach(consumer: Consumer): void;
  stop(): void;
  /** Per assigned partition: committed offset and end offset, for a last line in the log. */
  describe(): Promise<string>;
}

type Key = string; // topic \u0000 partition
/** from: where the next fetch starts (the committed offset, or past a skipped tail of aborted records). */
type Lag = { committed: bigint; from: bigint; end: bigint };

export function watchForStalls(o: StallWatchOptions): StallWatch {
  const assigned = new Map<Key, { topic: string; partition: number }>();
  const lastBatchAt = new Map<Key, number>();
  /**
   * Where a fetch that held only aborted records and markers left a partition: kafkajs moves past them in
   * memory and commits nothing, so the committed offset alone would show such a tail as input waiting.
   */
  const skippedTo = new Map<Key, bigint>();
  /** Committed offset at which a partition was last declared stalled: one replacement per offset. */
  const replacedAt = new Map<Key, string>();
  let fetches = 0;
  let checking = false;
  let replacing = false;
  let timer: NodeJS.Timeout | undefined;

  const key = (topic: string, partition: number): Key => `${topic}\u0000${partition}`;

  function attach(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned.clear();
      skippedTo.clear();
      const now = Date.now();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const partition of partitions) {
          assigned.set(key(topic, partition), { topic, partition });
          lastBatchAt.set(key(topic, partition), now);
        }
      }
    });
    consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
      lastBatchAt.set(key(e.payload.topic, e.payload.partition), Date.now());
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const { topic, partition, batchSize, lastOffset } = e.payload;
      if (batchSize === 0) skippedTo.set(key(topic, partition), BigInt(lastOffset) + 1n);
    });
    consumer.on(consumer.events.FETCH, () => void fetches++);
    timer ??= setInterval(() => void check(), Math.max(1000, Math.floor(o.stallMs / 4)));
    timer.unref();
  }

  async function lags(keys: Key[]): Promise<Map<Key, Lag>> {
    const topics = [...new Set(keys.map((k) => assigned.get(k)!.topic))];
    const out = new Map<Key, Lag>();
    const groupOffsets = await o.admin.fetchOffsets({ groupId: o.groupId, topics });
    for (const topic of topics) {
      const ends = await o.admin.fetchTopicOffsets(topic);
      const c = groupOffsets.find((t) => t.topic === topic)?.partitions ?? [];
      for (const e of ends) {
        const k = key(topic, e.partition);
        if (!keys.includes(k)) continue;
        const at = c.find((p) => p.partition === e.partition)?.offset ?? "-1";
        const committed = BigInt(at === "-1" ? e.low : at),
          skipped = skippedTo.get(k);
        out.set(k, {
          committed,
          from: skipped !== undefined && skipped > committed ? skipped : committed,
          end: BigInt(e.high),
        });
      }
    }
    return out;
  }

  async function check(): Promise<void> {
    if (checking || replacing || assigned.size === 0) return;
    checking = true;
    try {
      const now = Date.now();
      const quiet = [...assigned.keys()].filter((k) => now - (lastBatchAt.get(k) ?? now) >= o.stallMs);
      if (quiet.length === 0) return;
      const stalled: string[] = [];
      for (const [k, { committed, from, end }] of await lags(quiet)) {
        const { topic, partition } = assigned.get(k)!;
        const waiting = end - from >= (o.transactionalInputs?.has(topic) ? 2n : 1n);
        if (!waiting || replacedAt.get(k) === committed.toString()) continue;
        replacedAt.set(k, committed.toString());
        const quietS = ((now - lastBatchAt.get(k)!) / 1000).toFixed(1);
        stalled.push(`${topic}/${partition} committed ${committed} end ${end}, no batch for ${quietS} s`);
      }
      if (stalled.length === 0) return;
      o.log(`stall watchdog ${o.groupId}: ${stalled.join("; ")} (${fetches} fetches); replacing the consumer`);
      replacing = true;
      await o.replace();
    } catch (e) {
      o.log(`stall watchdog ${o.groupId}: check failed: ${(e as Error).message}`);
    } finally {
      replacing = false;
      checking = false;
    }
  }

  async function describe(): Promise<string> {
    if (assigned.size === 0) return "no partitions assigned";
    const all = await lags([...assigned.keys()]);
    return [...all]
      .map(([k, l]) => {
        const { topic, partition } = assigned.get(k)!;
        return `${topic.split(".").pop()}/${partition} ${l.committed}/${l.end}`;
      })
      .join(", ");
  }

  return {
    attach,
    stop: () => clearInterval(timer),
    describe,
  };
}
