// The shared broker is a real Kafka: records go round trip, and transactions mean what they say.
import { afterAll, describe, expect, it } from "vitest";
import type { Consumer, Producer } from "kafkajs";
import { createTopics, testConnection, testKafka, uniqueNs, until } from "../support/kafka.ts";

const kafka = testKafka("roundtrip");
const open: { disconnect(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(open.map((c) => c.disconnect().catch(() => {})));
});

async function readAll(
  topic: string,
  readUncommitted: boolean,
  expectAtLeast: number,
  quietMs = 1500,
): Promise<string[]> {
  const consumer: Consumer = kafka.consumer({ groupId: `${topic}.reader.${readUncommitted}`, readUncommitted });
  open.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  let last = Date.now();
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value!.toString());
      last = Date.now();
    },
  });
  await until(
    `${expectAtLeast} records then quiet on ${topic}`,
    () => seen.length >= expectAtLeast && Date.now() - last > quietMs,
    30_000,
  );
  await consumer.disconnect();
  return seen;
}

describe("a real broker", () => {
  it("round-trips records with keys, in order per partition", async () => {
    const topic = `${uniqueNs("rt")}.t`;
    await createTopics(testConnection(), [topic], 1);
    const producer: Producer = kafka.producer({ idempotent: true });
    open.push(producer);
    await producer.connect();
    const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
    await producer.send({ topic, acks: -1, messages: values.map((v, i) => ({ key: `k${i % 5}`, value: v })) });
    const got = await readAll(topic, false, 50, 500);
    expect(got).toEqual(values);
  });

  it("shows committed transactions to read_committed and aborted ones only to read_uncommitted", async () => {
    const topic = `${uniqueNs("txn")}.t`;
    await createTopics(testConnection(), [topic], 1);
    const producer = kafka.producer({ transactionalId: `${topic}.tx`, idempotent: true, maxInFlightRequests: 1 });
    open.push(producer);
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({
      topic,
      messages: [
        { key: "a", value: "committed-1" },
        { key: "a", value: "committed-2" },
      ],
    });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: "a", value: "aborted-1" }] });
    await aborted.abort();
    const after = await producer.transaction();
    await after.send({ topic, messages: [{ key: "a", value: "committed-3" }] });
    await after.commit();

    const rc = await readAll(topic, false, 3);
    expect(rc).toEqual(["committed-1", "committed-2", "committed-3"]);
    const ru = await readAll(topic, true, 4);
    expect(ru).toContain("aborted-1");
    expect(ru.filter((v) => v.startsWith("committed"))).toEqual(["committed-1", "committed-2", "committed-3"]);
  });
});
