// The kafkajs coordinator cache (patches/kafkajs+2.2.4.patch, producer/eosManager): a transactional producer
// looks its coordinators up once, not before every transactional request, and again after a request fails.
// Against the shared real broker; requests are counted with kafkajs's own instrumentation events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopics, testConnection, testKafka, uniqueNs } from "../support/kafka.ts";

const ns = uniqueNs("coordinators");
const topic = `${ns}.out`;
const group = `${ns}.group`;

/** Requests one kafkajs client sent, by API name (FindCoordinator is "GroupCoordinator" in kafkajs). */
function countRequests(p: { on(event: string, cb: (e: { payload: { apiName: string } }) => void): unknown }) {
  const counts = new Map<string, number>();
  p.on("producer.network.request", (e) => counts.set(e.payload.apiName, (counts.get(e.payload.apiName) ?? 0) + 1));
  return (api: string) => counts.get(api) ?? 0;
}

function transactionalProducer(transactionalId: string) {
  return testKafka(`oversell-test-${transactionalId}`).producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
  });
}

async function oneTransaction(p: ReturnType<typeof transactionalProducer>, i: number): Promise<void> {
  const tx = await p.transaction();
  try {
    await tx.send({ topic, messages: [{ key: `k${i}`, value: `v${i}` }] });
    await tx.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic, partitions: [{ partition: 0, offset: String(i) }] }],
    });
    await tx.commit();
  } catch (e) {
    await tx.abort().catch(() => {});
    throw e;
  }
}

describe("kafkajs transactional producer: coordinators looked up once", () => {
  beforeAll(async () => {
    await createTopics(testConnection(), [topic], 1);
    // The group exists, as a SUT's does: its consumer joined before any offsets are sent in a transaction.
    const consumer = testKafka(`oversell-test-${ns}.consumer`).consumer({ groupId: group });
    const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await joined;
    await consumer.disconnect();
  });
  const producers: ReturnType<typeof transactionalProducer>[] = [];
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
  });

  it("after the first transaction, ten more send no lookup (unpatched kafkajs: four or more each)", async () => {
    const p = transactionalProducer(`${ns}.a`);
    producers.push(p);
    const sent = countRequests(p);
    await p.connect();
    await oneTransaction(p, 0); // InitProducerId, and the first lookup of each coordinator
    const lookups = sent("GroupCoordinator");
    expect(lookups).toBeGreaterThan(0);
    for (let i = 1; i <= 10; i++) await oneTransaction(p, i);
    expect(sent("EndTxn")).toBe(11);
    expect(sent("TxnOffsetCommit")).toBe(11);
    expect(sent("GroupCoordinator")).toBe(lookups);
  });

  it("after a request to the coordinator fails (the producer was fenced), the next one looks it up again", async () => {
    const id = `${ns}.b`;
    const first = transactionalProducer(id);
    producers.push(first);
    const sent = countRequests(first);
    await first.connect();
    await oneTransaction(first, 100);

    // A second producer with the same transactional id fences the first: its next AddPartitionsToTxn fails, and
    // the next transaction it tries must look the coordinator up again rather than trust the cached one.
    const second = transactionalProducer(id);
    producers.push(second);
    await second.connect();
    const fence = await second.transaction(); // kafkajs runs InitProducerId at the first transaction
    await fence.abort();
    await expect(oneTransaction(first, 101)).rejects.toThrow();
    const afterFailure = sent("GroupCoordinator");
    await expect(oneTransaction(first, 102)).rejects.toThrow();
    expect(sent("GroupCoordinator")).toBeGreaterThan(afterFailure);

    // The new owner of the id commits, and finds its coordinators once.
    const sent2 = countRequests(second);
    await oneTransaction(second, 103);
    expect(sent2("EndTxn")).toBe(1);
    expect(sent2("GroupCoordinator")).toBeLessThanOrEqual(2);
  });
});
