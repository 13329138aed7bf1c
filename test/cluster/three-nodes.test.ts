// Three KRaft nodes on one host: replication factor 3 survives kill -9 of the partition leader.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { isAlive } from "../../harness/process/proc.ts";
import { createTopics, testKafka, uniqueNs, until } from "../support/kafka.ts";

let cluster: EmbeddedCluster;
beforeAll(async () => {
  cluster = await EmbeddedCluster.start({ brokers: 3 });
});
afterAll(async () => {
  await cluster?.stop();
});

async function leaderOf(topic: string): Promise<number | undefined> {
  const admin = testKafka("leader-probe", cluster.connection).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const p = md.topics[0]?.partitions[0];
    return p && p.leader >= 0 ? p.leader : undefined;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect();
  }
}

describe("a three-node cluster", () => {
  it("elects a new leader when the leader is killed, keeps committed data, and the node rejoins", async () => {
    expect(cluster.nodes).toHaveLength(3);
    const topic = `${uniqueNs("rf3")}.t`;
    await createTopics(cluster.connection, [topic], 1, 3);
    const kafka = testKafka("rf3", cluster.connection);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ value: `m${i}` })) });
    await producer.disconnect();

    const oldLeader = await until("a leader", () => leaderOf(topic));
    const pid = cluster.node(oldLeader).pid!;
    await cluster.killNode(oldLeader);
    expect(isAlive(pid)).toBe(false);
    const newLeader = await until(
      "a new leader",
      async () => {
        const l = await leaderOf(topic);
        return l !== undefined && l !== oldLeader ? l : undefined;
      },
      60_000,
      500,
    );
    expect(newLeader).not.toBe(oldLeader);

    const consumer = kafka.consumer({ groupId: `${topic}.g` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
      },
    });
    await until("all 20 committed records after the leader died", () => seen.length >= 20, 60_000);
    await consumer.disconnect();
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));

    await cluster.startNode(oldLeader);
    expect(cluster.node(oldLeader).running).toBe(true);
    const admin = kafka.admin();
    await admin.connect();
    const brokers = (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort();
    await admin.disconnect();
    expect(brokers).toEqual([1, 2, 3]);
  });
});
