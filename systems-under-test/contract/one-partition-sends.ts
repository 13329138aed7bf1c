// kafkajs 2.2.4 loses or duplicates records when a send spanning several brokers is retried after a
// partition leader moved (src/producer/sendMessages.js): it remembers which BROKERS answered, and on
// a retry sends every partition whose new leader has not answered yet, with the sequence numbers
// advanced past what the first attempt wrote. So a partition already written on its old leader is
// written again on the new one (the broker cannot deduplicate a new sequence: duplicate records),
// and a partition of the failed broker whose new leader had answered is never re-sent while the
// send resolves (lost records). Seen on three brokers with the leader killed: a 73-record batch of
// saga decisions appeared twice in one partition, and the load driver's acks without an offset.
// A send that targets ONE partition cannot be half done: a retry resends the same sequence to the
// new leader, which deduplicates it. So every send here is split per partition.
import kafkajs from "kafkajs";
import type { Admin, Message, RecordMetadata } from "kafkajs";

const partitioner = kafkajs.Partitioners.DefaultPartitioner();

/** The partition Kafka's default (murmur2) partitioner gives a key, as every Kafka client does. */
export function partitionOfKey(topic: string, key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/** Groups messages by (topic, partition); a message without a partition gets its key's. */
export function byPartition(topicMessages: TopicMessages[], partitionsOf: (topic: string) => number): TopicMessages[] {
  const groups = new Map<string, TopicMessages>();
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const partition = m.partition ?? partitionOfKey(topic, String(m.key ?? ""), partitionsOf(topic));
      const k = `${topic}\u0000${partition}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { topic, messages: [] }));
      g.messages.push({ ...m, partition });
    }
  }
  return [...groups.values()];
}

type Send = (r: { topic: string; acks: number; messages: Message[] }) => Promise<RecordMetadata[]>;

/** One send per partition, one after the other (acks from all in-sync replicas). */
export async function sendPerPartition(
  send: Send,
  topicMessages: TopicMessages[],
  partitionsOf: (topic: string) => number,
): Promise<void> {
  for (const g of byPartition(topicMessages, partitionsOf))
    await send({ topic: g.topic, acks: -1, messages: g.messages });
}

/** Partition counts of topics, read once (they do not change during a run). */
export class PartitionCounts {
  private readonly counts = new Map<string, number>();
  constructor(private readonly admin: Admin) {}

  async of(topics: string[]): Promise<(topic: string) => number> {
    const missing = [...new Set(topics)].filter((t) => !this.counts.has(t));
    if (missing.length) {
      const md = await this.admin.fetchTopicMetadata({ topics: missing });
      for (const t of md.topics) if (t.partitions.length) this.counts.set(t.name, t.partitions.length);
    }
    return (topic) => {
      const n = this.counts.get(topic);
      if (!n) throw new Error(`no partition count for topic ${topic}`);
      return n;
    };
  }
}
