// The broker roll fault on a real 3-node cluster: every node is restarted, one at a time, and a
// replicated topic keeps a leader for every partition throughout.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { runNemesis, type NemesisEvent } from "../../harness/nemesis/index.ts";
import { InstanceGroup } from "../../harness/sut/instances.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";
import { createTopics, testKafka, uniqueNs, until } from "../support/kafka.ts";

describe("broker roll on 3 nodes", () => {
  let cluster: EmbeddedCluster;
  beforeAll(async () => {
    cluster = await EmbeddedCluster.start({ brokers: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("restarts every node one by one; never two down at once; every node back in the ISR", async () => {
    const ns = uniqueNs("roll");
    const topic = `${ns}.orders`;
    await createTopics(cluster.connection, [topic], 3, 3);
    const oldPids = new Map(cluster.nodes.map((n) => [n.nodeId, n.pid]));
    const events: NemesisEvent[] = [];
    let maxDown = 0;
    const watch = setInterval(() => {
      maxDown = Math.max(maxDown, cluster.nodes.filter((n) => !n.running).length);
    }, 20);
    const instances = new InstanceGroup({
      manifest: loadManifest(join(import.meta.dirname, "..", "fixtures", "sleeper-sut")),
      ns,
      connection: cluster.connection,
      logDir: mkdtempSync(join(tmpdir(), "oversell-roll-")),
    });
    try {
      const h = runNemesis([{ kind: "broker", mode: "roll", at: 0, duration: 1000 }], {
        instances,
        cluster,
        topic,
        loadStartMs: Date.now(),
        record: (e) => events.push(e),
      });
      const windows = await h.healed();
      expect(events.map((e) => [e.type, e.target])).toEqual([
        ["fault-start", "all-brokers"],
        ["fault-end", "all-brokers"],
      ]);
      expect(events[1]!.detail).toMatch(/^rolled every broker/);
      expect(events[1]!.detail).not.toMatch(/not yet back/);
      expect(windows).toHaveLength(1);
    } finally {
      clearInterval(watch);
    }
    expect(maxDown).toBe(1);
    for (const n of cluster.nodes) {
      expect(n.running).toBe(true);
      expect(n.pid).not.toBe(oldPids.get(n.nodeId));
    }
    const admin = testKafka("roll-test", cluster.connection).admin();
    await admin.connect();
    try {
      const parts = await until(
        "every partition led, full ISR",
        async () => {
          const p = (await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined))?.topics[0]?.partitions;
          return p?.every((x) => x.leader >= 0 && x.isr.length === 3) ? p : undefined;
        },
        30_000,
        300,
      );
      expect(parts).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });
});
