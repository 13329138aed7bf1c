// Kafka 3.9.1 (the last 3.x) must work too, and a version Maven Central lacks fails with a clear reason.
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { ensureKafkaJars } from "../../harness/cluster/jars.ts";
import { testKafka, uniqueNs, createTopics, until } from "../support/kafka.ts";

let old: EmbeddedCluster | undefined;
afterAll(async () => {
  await old?.stop();
});

describe("Kafka versions", () => {
  it("3.9.1 starts and commits a transaction", async () => {
    old = await EmbeddedCluster.start({ brokers: 1, kafkaVersion: "3.9.1" });
    expect(old.kafkaVersion).toBe("3.9.1");
    const topic = `${uniqueNs("v39")}.t`;
    await createTopics(old.connection, [topic]);
    const producer = testKafka("v39", old.connection).producer({
      transactionalId: `${topic}.tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ value: "x" }] });
    await tx.commit();
    await producer.disconnect();
    // EndTxn answers once the commit is decided; the marker reaches the partition a moment later,
    // and until then the (read_committed) end offset stays before the open transaction.
    const admin = testKafka("v39", old.connection).admin();
    await admin.connect();
    try {
      const high = await until(
        "the commit marker on the partition",
        async () => {
          const h = Number((await admin.fetchTopicOffsets(topic))[0]!.high);
          return h >= 2 ? h : undefined;
        },
        15_000,
      );
      expect(high).toBe(2); // the record and the commit marker
    } finally {
      await admin.disconnect();
    }
  });

  it("a version Maven Central does not serve is refused with a reason", async () => {
    await expect(ensureKafkaJars("0.0.1")).rejects.toThrow(/could not fetch the Kafka 0\.0\.1 jars/);
  });

  it("a malformed version is refused before Maven runs", async () => {
    await expect(ensureKafkaJars("latest")).rejects.toThrow(/not of the form X\.Y\.Z/);
  });
});
