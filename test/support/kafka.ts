// Helpers for tests against the shared real broker.
// First, before kafkajs loads: kafkajs 2.2.4 lets aborted transactional records through read_committed.
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import { inject } from "vitest";
import { kafkaJsConfig, type Connection } from "../../systems-under-test/contract/connection.ts";

const { Kafka, logLevel } = kafkajs;

export function testConnection(): Connection {
  return { brokers: inject("bootstrap").split(",") };
}

export function testKafka(clientId = "oversell-test", conn: Connection = testConnection()) {
  return new Kafka(kafkaJsConfig(conn, clientId, { logLevel: logLevel.NOTHING }));
}

/** A namespace no other test uses: oversell.test.<label>.<random>. */
export function uniqueNs(label: string): string {
  return `oversell.test.${label}.${randomBytes(4).toString("hex")}`;
}

export async function createTopics(
  conn: Connection,
  topics: string[],
  partitions = 1,
  replicationFactor = 1,
): Promise<void> {
  const admin = testKafka("oversell-test-admin", conn).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    });
  } finally {
    await admin.disconnect();
  }
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every record key of a topic by "partition:offset", read from the beginning until `count` are in. */
export async function keysByOffset(
  kafka: ReturnType<typeof testKafka>,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const consumer = kafka.consumer({ groupId: `${topic}.reader.${randomBytes(3).toString("hex")}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      void seen.set(`${partition}:${message.offset}`, message.key?.toString() ?? ""),
  });
  try {
    await until(`${count} records of ${topic} read back`, () => seen.size >= count || undefined, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
