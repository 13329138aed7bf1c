// Producing batches where every record's partition is chosen up front (Kafka's default keyed
// partitioner), so each record's offset can be read off the batch acknowledgement.
import type { Admin, Kafka, Producer } from "kafkajs";

const M = 0x5bd1e995;

/**
 * Kafka's murmur2 of a key's UTF-8 bytes, in 32-bit arithmetic (Math.imul): the same value as kafkajs's
 * 64-bit Long version, whose result is only its low 32 bits, at a fraction of the cost (this runs for every
 * order the driver sends; test/load/hot-path.test.ts compares the two).
 */
const scratch = new Uint8Array(256);

/** The key's UTF-8 bytes: ASCII keys (generated orderIds) copied into one reused array, others encoded. */
function utf8(key: string): { data: Uint8Array; length: number } {
  if (key.length > scratch.length) return { data: Buffer.from(key, "utf8"), length: Buffer.byteLength(key) };
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) {
      const data = Buffer.from(key, "utf8");
      return { data, length: data.length };
    }
    scratch[i] = c;
  }
  return { data: scratch, length: key.length };
}

function murmur2(key: string): number {
  const { data, length } = utf8(key);
  const at = (i: number) => data[i]!;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = at(i4) | (at(i4 + 1) << 8) | (at(i4 + 2) << 16) | (at(i4 + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    case 3:
      h ^= at(tail + 2) << 16;
    // falls through
    case 2:
      h ^= at(tail + 1) << 8;
    // falls through
    case 1:
      h ^= at(tail);
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner (murmur2, as the Java client) gives a key. */
export function partitionFor(_topic: string, key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  const n = md.topics[0]?.partitions.length ?? 0;
  if (n === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
  return n;
}

export interface Outgoing {
  key: string;
  value: Buffer;
}

export interface Placed {
  partition: number;
  offset: string;
}

/** Sends one batch (acks from all in-sync replicas); resolves with each record's partition and offset. */
export async function sendBatch(
  producer: Producer,
  topic: string,
  partitions: number,
  records: Outgoing[],
  timeoutMs = 30_000,
): Promise<Placed[]> {
  const parts = records.map((r) => partitionFor(topic, r.key, partitions));
  // One send per partition: kafkajs 2.2.4 retries a send spanning brokers per broker, so after a
  // leader moves it can skip a partition (acked without an offset, never written) or write one twice.
  const byPart = new Map<number, Outgoing[]>();
  records.forEach((r, i) => {
    const list = byPart.get(parts[i]!);
    if (list) list.push(r);
    else byPart.set(parts[i]!, [r]);
  });
  const metas = await Promise.all(
    [...byPart].map(([partition, rs]) =>
      producer.send({
        topic,
        acks: -1,
        timeout: timeoutMs,
        messages: rs.map((r) => ({ key: r.key, value: r.value, partition })),
      }),
    ),
  );
  const base = new Map(metas.flat().map((m) => [m.partition, BigInt(m.baseOffset ?? "-1")]));
  const next = new Map<number, bigint>();
  return parts.map((p) => {
    const b = base.get(p);
    if (b === undefined || b < 0n) return { partition: p, offset: "-1" };
    const k = next.get(p) ?? 0n;
    next.set(p, k + 1n);
    return { partition: p, offset: String(b + k) };
  });
}

/** failed: the broker refused for sure (not retriable); unknown: anything else (timeout, lost connection). */
export function classifySendError(e: unknown): { status: "failed" | "unknown"; error: string } {
  let cur = e as { name?: string; message?: string; retriable?: boolean; cause?: unknown } | undefined;
  const msg = (e as Error)?.message ?? String(e);
  for (let depth = 0; cur && depth < 5; depth++) {
    if (cur.name === "KafkaJSProtocolError" && cur.retriable === false) return { status: "failed", error: msg };
    cur = cur.cause as typeof cur;
  }
  return { status: "unknown", error: msg };
}

export function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: true, allowAutoTopicCreation: false, maxInFlightRequests: 5 });
}
