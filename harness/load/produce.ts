// Producing batches where every record's partition is chosen up front (Kafka's default keyed
// partitioner), so each record's offset can be read off the batch acknowledgement.
import kafkajs from "kafkajs";
import type { Admin, Kafka, Producer } from "kafkajs";

const { Partitioners } = kafkajs;
const keyed = Partitioners.DefaultPartitioner();

const metadataOf = new Map<
  number,
  { partitionErrorCode: number; partitionId: number; leader: number; replicas: number[]; isr: number[] }[]
>();

/** The partition Kafka's default partitioner (murmur2, as the Java client) gives a key. */
export function partitionFor(topic: string, key: string, partitions: number): number {
  let partitionMetadata = metadataOf.get(partitions);
  if (!partitionMetadata) {
    // Built once per partition count: this runs for every order the driver sends.
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    metadataOf.set(partitions, partitionMetadata);
  }
  return keyed({ topic, partitionMetadata, message: { key, value: null } });
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
