// The stall watchdog (contract/stall-watchdog.ts) on a real broker. A kafkajs consumer that stops
// receiving batches for one partition after a leader failover cannot be produced on demand, so the
// stall is made with consumer.pause(): input waits on an assigned partition and no batch comes.
import type { Consumer } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { watchForStalls } from "../../systems-under-test/contract/stall-watchdog.ts";
import { createTopics, testConnection, testKafka, uniqueNs, until } from "../support/kafka.ts";

describe("stall watchdog", () => {
  const kafka = testKafka("stall-watchdog-test");
  const admin = kafka.admin();
  const consumers: Consumer[] = [];
  afterAll(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await admin.disconnect();
  });

  it("replaces a consumer that gets no batch for a partition with input waiting, once per offset", async () => {
    const ns = uniqueNs("stall");
    const topic = `${ns}.input`;
    const groupId = `${ns}.group`;
    await createTopics(testConnection(), [topic], 2);
    await admin.connect();
    const logs: string[] = [];
    let replaced = 0;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    consumers.push(consumer);
    const watch = watchForStalls({
      admin,
      groupId,
      log: (m) => logs.push(m),
      stallMs: 1500,
      replace: async () => void replaced++,
    });
    watch.attach(consumer);
    const processed: number[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 100,
      eachMessage: async ({ partition }) => void processed.push(partition),
    });

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: "a", partition: 0 }] });
    await until("the first record processed and committed", async () => {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return t?.partitions.find((p) => p.partition === 0)?.offset === "1" || undefined;
    });
    // Idle partitions (nothing waiting) are not stalls, however long they stay quiet.
    await new Promise((r) => setTimeout(r, 2500));
    expect(replaced).toBe(0);

    consumer.pause([{ topic, partitions: [1] }]);
    await producer.send({ topic, messages: [{ value: "b", partition: 1 }] });
    await producer.disconnect();
    await until("the watchdog to replace the consumer", () => replaced > 0 || undefined, 20_000);
    expect(logs.join("\n")).toMatch(new RegExp(`${topic.replaceAll(".", "\\.")}/1 committed 0 end 1, no batch for`));
    expect(logs.join("\n")).not.toMatch(/\/0 committed/);
    // Still stuck at the same committed offset: it is not replaced again and again.
    await new Promise((r) => setTimeout(r, 3000));
    expect(replaced).toBe(1);
    expect(await watch.describe()).toMatch(/input\/1 0\/1/);
    watch.stop();
  });

  it("takes a tail of aborted records, skipped in memory and never committed, for no input waiting", async () => {
    const ns = uniqueNs("stall-aborted");
    const topic = `${ns}.input`;
    const groupId = `${ns}.group`;
    await createTopics(testConnection(), [topic], 1);
    await admin.connect();
    const producer = kafka.producer({ transactionalId: `${ns}.tx`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: "kept", partition: 0 }] });
    await committed.commit();
    const logs: string[] = [];
    let replaced = 0;
    // As in the SUTs: offsets are committed only with processed input, never for a batch that had none.
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    consumers.push(consumer);
    const watch = watchForStalls({
      admin,
      groupId,
      log: (m) => logs.push(m),
      stallMs: 1500,
      transactionalInputs: new Set([topic]),
      replace: async () => void replaced++,
    });
    watch.attach(consumer);
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.push(m.value!.toString());
        if (batch.messages.length > 0)
          await consumer.commitOffsets([{ topic, partition: 0, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
      },
    });
    await until("the committed record processed", () => seen.length === 1 || undefined);
    const aborted = await producer.transaction();
    await aborted.send({
      topic,
      messages: [
        { value: "gone", partition: 0 },
        { value: "gone", partition: 0 },
      ],
    });
    await aborted.abort();
    await producer.disconnect();
    // Committed 2 (record, marker), end 5 (two aborted records, their marker): waiting by offsets alone.
    await new Promise((r) => setTimeout(r, 4000));
    expect(seen).toEqual(["kept"]);
    expect(logs.join("\n")).not.toMatch(/replacing/);
    expect(replaced).toBe(0);
    expect(await watch.describe()).toMatch(/input\/0 [12]\/5/);
    watch.stop();
  });
});
