// The broker fault on a 3-node cluster: the leader of the busiest partition is killed, another
// replica takes over, and the node is back in the ISR once healed() resolves. The only 3-node file.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { runNemesis, type NemesisEvent } from "../../harness/nemesis/index.ts";
import { InstanceGroup } from "../../harness/sut/instances.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";
import { createContractTopics } from "../../harness/run/kafka.ts";
import { startKafkaLoad } from "../../harness/load/kafka-driver.ts";
import { BUILTIN_SCENARIOS, generateStream, validateScenario } from "../../harness/scenario/index.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { keysByOffset, testKafka, uniqueNs, until } from "../support/kafka.ts";

/** 3 partitions x 3 replicas; metadata reaches the three brokers at different moments, so poll. */
async function createTopic3(kafka: ReturnType<typeof testKafka>, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 3, replicationFactor: 3 }] });
    await until(
      `leaders for ${topic}`,
      async () => {
        const md = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        const parts = md?.topics[0]?.partitions ?? [];
        return parts.length === 3 && parts.every((p) => p.leader >= 0 && p.isr.length === 3) ? true : undefined;
      },
      60_000,
      300,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Instances of a SUT that only sleeps: runNemesis wants a group, and a broker fault touches none of them. */
function sleepers(ns: string, connection: EmbeddedCluster["connection"]): InstanceGroup {
  return new InstanceGroup({
    manifest: loadManifest(join(import.meta.dirname, "..", "fixtures", "sleeper-sut")),
    ns,
    connection,
    logDir: mkdtempSync(join(tmpdir(), "oversell-broker3-")),
  });
}

describe("broker fault on 3 nodes", () => {
  let cluster: EmbeddedCluster;
  beforeAll(async () => {
    cluster = await EmbeddedCluster.start({ brokers: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("kills the busiest partition's leader, a new leader is elected, the node rejoins", async () => {
    const ns = uniqueNs("broker3");
    const topic = `${ns}.orders`;
    const kafka = testKafka("broker3-test", cluster.connection);
    await createTopic3(kafka, topic);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ partition: 2, value: `m${i}` })) });
    await producer.send({ topic, messages: [{ partition: 0, value: "x" }] });
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const leaderOf = async (p: number) =>
      (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find((x) => x.partitionId === p)!;
    try {
      const victim = (await leaderOf(2)).leader;
      const oldPid = cluster.node(victim).pid;
      const events: NemesisEvent[] = [];
      const instances = sleepers(ns, cluster.connection);
      const h = runNemesis([{ kind: "broker", target: "leader", at: 0, duration: 2000 }], {
        instances,
        cluster,
        topic,
        loadStartMs: Date.now(),
        record: (e) => events.push(e),
      });
      await until("broker fault injected", () => events.length >= 1 || undefined, 30_000, 50);
      expect(events[0]!.target).toBe(`broker-${victim}`);
      expect(cluster.node(victim).running).toBe(false);
      const newLeader = await until(
        "a new leader for partition 2",
        async () => {
          const p = await leaderOf(2).catch(() => undefined);
          return p && p.leader >= 0 && p.leader !== victim ? p.leader : undefined;
        },
        60_000,
        300,
      );
      expect(newLeader).not.toBe(victim);

      const windows = await h.healed();
      expect(events.map((e) => e.type)).toEqual(["fault-start", "fault-end"]);
      expect(events[1]!.detail).not.toMatch(/not yet back/);
      expect(windows).toEqual([
        { kind: "broker", target: `broker-${victim}`, at: events[0]!.atMs, until: events[1]!.atMs },
      ]);
      expect(cluster.node(victim).running).toBe(true);
      expect(cluster.node(victim).pid).not.toBe(oldPid);
      // Brokers apply metadata at slightly different moments: the ISR is asked until it agrees.
      const isr = await until(
        `broker ${victim} in the ISR of partition 2`,
        async () => {
          const p = await leaderOf(2).catch(() => undefined);
          return p?.isr.includes(victim) ? p.isr : undefined;
        },
        30_000,
        300,
      );
      expect(isr).toContain(victim);
    } finally {
      await admin.disconnect();
    }
  });

  // After the kill and restart above, kafkajs's own createTopics({waitForLeaders: true}) failed at
  // once with "This server does not host this topic-partition" (every gate cell after the first).
  it("creates a run's topics after a broker restart, and every partition takes a write at once", async () => {
    for (const n of cluster.nodes) if (!n.running) await cluster.startNode(n.nodeId);
    for (const round of [1, 2]) {
      const ns = uniqueNs(`after-restart-${round}`);
      await createContractTopics(cluster.connection, ns, 4, 3);
      const kafka = testKafka("after-restart-test", cluster.connection);
      const producer = kafka.producer({ retry: { retries: 0 } });
      await producer.connect();
      try {
        for (const partition of [0, 1, 2, 3]) {
          const [meta] = await producer.send({
            topic: `${ns}.orders`,
            acks: -1,
            messages: [{ partition, value: "x" }],
          });
          expect(meta!.errorCode).toBe(0);
        }
      } finally {
        await producer.disconnect();
      }
    }
  });

  // kafkajs hands a failed request's sequence numbers to the next batch; when the failed request had been
  // written, the broker acknowledged that next batch as a duplicate, with the earlier batch's offsets, and
  // dropped it (docs/FAILOVER.md, cause 6). Every ack must name where its order really is.
  it("every order the kafka driver acknowledges through a leader kill is at the offset its ack named", async () => {
    const ns = uniqueNs("broker3-load");
    const t = topicsFor(ns);
    const kafka = testKafka("broker3-load", cluster.connection);
    await createTopic3(kafka, t.orders);
    const stream = generateStream(
      validateScenario({ ...BUILTIN_SCENARIOS.steady, timing: { kind: "rate", ratePerSec: 400, durationMs: 8000 } }),
      4,
    );
    const acked = new Map<number, { partition: number; offset: string }>();
    const t0 = Date.now() + 300;
    const load = await startKafkaLoad({
      connection: cluster.connection,
      ns,
      orders: { length: stream.orders.length, at: (i: number) => stream.orders[i] },
      t0,
      producers: 2,
      ackTimeoutMs: 10_000,
      onAck: (o, a) => void acked.set(o.seq, { partition: a.partition!, offset: a.offset! }),
    });
    const instances = sleepers(ns, cluster.connection);
    const h = runNemesis([{ kind: "broker", target: "leader", at: 2500, duration: 2000 }], {
      instances,
      cluster,
      topic: t.orders,
      loadStartMs: t0,
      record: () => {},
    });
    await load.done;
    await h.healed();
    expect(acked.size).toBeGreaterThan(stream.orders.length / 2);

    const seen = await keysByOffset(kafka, t.orders, acked.size, 60_000);
    const wrong = [...acked]
      .filter(([seq, a]) => seen.get(`${a.partition}:${a.offset}`) !== stream.orders[seq]!.key)
      .map(([seq, a]) => `${stream.orders[seq]!.key} acked at ${a.partition}:${a.offset}`);
    expect(wrong).toEqual([]);
  });
});
